"""``sixbtc worker ROLE``: one role per process (SPEC §3.12), e.g. under supervisord.

Roles: generator, validator, backtester, rotator, executor, monitor, scheduler, api
(:data:`sixbtc.app.roles.ROLES`). Logs are JSON lines on standard error when it is not a
terminal, pretty otherwise (:mod:`sixbtc.app.logs`). Exit codes: 143 after SIGTERM (130 after
SIGINT) once the role stopped cleanly, 124 when it did not stop within
``processes.stop_timeout_s``, 2 for a configuration error (such as a role not available in this
build, or the executor role in live mode without ``--live``), 1 for an unexpected error.

The executor role goes through the same live gate as ``sixbtc run``
(:func:`sixbtc.cli.live_gate.live_gate`): real orders need ``--live`` and
``executor.dry_run: false``, one without the other refuses to start.
"""

from __future__ import annotations

import typer

from sixbtc.app.live_mode import LIVE_DELAY_S
from sixbtc.cli.context import friendly_errors, open_container, report_error
from sixbtc.cli.live_gate import LIVE_HELP, live_gate

ROLE_NAMES = ("generator", "validator", "backtester", "rotator", "executor", "monitor", "scheduler", "api")


def worker(ctx: typer.Context,
           role: str = typer.Argument(..., help=f"Role to run: {', '.join(ROLE_NAMES)}.", show_default=False),
           live: bool = typer.Option(False, "--live", help="executor role only. " + LIVE_HELP),
           live_delay_s: float = typer.Option(LIVE_DELAY_S, "--live-delay-s", min=0, max=LIVE_DELAY_S, hidden=True,
                                              help="Tests only: seconds --live waits after its warning.")) -> None:
    """Run one role in this process until SIGTERM (see README "Running in production")."""
    if role not in ROLE_NAMES:
        report_error(f"unknown role {role!r}: expected one of {', '.join(ROLE_NAMES)}", 2, "usage error")
    if live and role != "executor":
        report_error(f"--live applies to the executor role only, not {role!r}", 2, "usage error")
    c = open_container(ctx)
    if role == "executor":
        live_gate(c, live, False, live_delay_s)
    from sixbtc.app.api_token import resolve_token
    from sixbtc.app.logs import bind_role, configure_logging
    from sixbtc.app.processes import worker_id
    from sixbtc.app.roles import run_role

    runner = None
    with friendly_errors():
        secrets = [resolve_token(c)[0]] if role == "api" else []
        configure_logging(c.settings, extra_secrets=secrets)
        bind_role(role, worker_id(role))
        _ = c.engine  # an unreachable database fails now, before the role starts
        if role == "api":
            from sixbtc.api.role import run_api

            runner = run_api
        code = run_role(c, role, runner)
    raise typer.Exit(code)
