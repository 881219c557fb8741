"""Process roles: ``sixbtc worker ROLE`` runs one role per process (SPEC §3.12).

:data:`ROLES` is the role table: each role's supervisord group and priority (lower starts
first), whether a SIGTERM interrupts its current step (roles working on claims) and its loop.
The api role's loop is :func:`sixbtc.api.role.run_api` (only the entry points import the web
stack), so :data:`ROLES` names it and the command passes it in. ``sixbtc run`` still runs every
role in one process (:mod:`sixbtc.app.service`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sixbtc.app.container import Container
from sixbtc.app.roles.factory import run_backtester, run_generator, run_validator
from sixbtc.app.roles.orchestration import run_scheduler
from sixbtc.app.roles.runtime import EXIT_FORCED, Job, RoleRuntime
from sixbtc.app.roles.trading import run_executor, run_monitor, run_rotator

__all__ = ["EXIT_FORCED", "ROLES", "Job", "RoleRuntime", "RoleSpec", "run_role"]

Runner = Callable[[RoleRuntime], None]


@dataclass(frozen=True)
class RoleSpec:
    """One role: ``group`` (supervisord group), ``priority`` (start order, lower first),
    ``interruptible`` (SIGTERM interrupts a step: it works on claims) and ``run`` (its loop;
    None for the api role, whose loop the command passes in)."""

    name: str
    group: str
    priority: int
    interruptible: bool
    run: Runner | None


ROLES: dict[str, RoleSpec] = {s.name: s for s in (
    RoleSpec("generator", "pipeline", 300, True, run_generator),
    RoleSpec("validator", "pipeline", 310, True, run_validator),
    RoleSpec("backtester", "pipeline", 320, True, run_backtester),
    RoleSpec("rotator", "trading", 200, False, run_rotator),
    RoleSpec("executor", "trading", 210, False, run_executor),
    RoleSpec("monitor", "trading", 220, False, run_monitor),
    RoleSpec("scheduler", "orchestration", 100, False, run_scheduler),
    RoleSpec("api", "orchestration", 110, False, None),
)}


def run_role(c: Container, role: str, runner: Runner | None = None) -> int:
    """Run ``role`` in this process until it ends or is stopped; return the exit code.

    Parameters
    ----------
    c : Container
        The process's container.
    role : str
        A key of :data:`ROLES`.
    runner : callable or None
        The role's loop when :data:`ROLES` has none (the api role).

    Returns
    -------
    int
        0 when the loop ended by itself, ``128 + signal`` after SIGTERM/SIGINT.

    Raises
    ------
    ValueError
        For an unknown role or a role without a loop.
    """
    spec = ROLES.get(role)
    if spec is None:
        raise ValueError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
    run = runner or spec.run
    if run is None:
        raise ValueError(f"role {role!r} needs its loop passed in")
    with RoleRuntime(c, role, interruptible=spec.interruptible) as rt:
        run(rt)
    return rt.exit_code()
