"""``sixbtc supervisor-config`` and the crash listener: the roles under supervisord.

:func:`write_config` writes the supervisord configuration of this home (every role of
:data:`~sixbtc.app.roles.ROLES` available in this build; numprocs from ``generator.workers``,
``processes.validators`` and ``processes.backtesters``). :func:`listen_for_crashes` is the event listener's loop: every
unexpected exit or FATAL start of a role is recorded as a ``crash`` alert and notified
(:func:`sixbtc.app.alerts.alert`, never throttled beyond ``watchdog.critical_cooldown_minutes``).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from typing import TextIO

import structlog

from sixbtc.adapters.supervisor.config import Layout, Program, render
from sixbtc.adapters.supervisor.events import Crash, crash_events
from sixbtc.app.alerts import alert
from sixbtc.app.container import Container
from sixbtc.app.roles import ROLES
from sixbtc.app.roles.orchestration import SCHEDULER_STAGE

log = structlog.get_logger("sixbtc.supervisor")


def sixbtc_command() -> tuple[str, ...]:
    """The argv prefix that runs ``sixbtc`` with this interpreter."""
    script = Path(sys.executable).with_name("sixbtc")
    if script.exists():
        return (str(script),)
    found = shutil.which("sixbtc")
    return (found,) if found else (sys.executable, "-m", "sixbtc.cli.main")


def available_roles() -> list[str]:
    """Roles this build can run (``scheduler`` only with the :mod:`sixbtc.scheduler` stage)."""
    return [r for r in ROLES if r != "scheduler" or importlib.util.find_spec(SCHEDULER_STAGE) is not None]


def programs(c: Container) -> list[Program]:
    """The supervised programs, by priority."""
    n = {"generator": c.settings.generator.workers, "validator": c.settings.processes.validators,
         "backtester": c.settings.processes.backtesters}
    specs = sorted((ROLES[r] for r in available_roles()), key=lambda s: s.priority)
    return [Program(s.name, s.group, s.priority, n.get(s.name, 1)) for s in specs]


def write_config(c: Container, output: Path | None = None, run_dir: Path | None = None) -> Path:
    """Write the configuration (default ``HOME/supervisord.conf``) and create its log and run
    directories (default ``processes.log_dir`` or ``HOME/logs``, and ``HOME/run``); returns its path."""
    p = c.settings.processes
    home = c.home.root.resolve()
    log_dir = Path(p.log_dir).resolve() if p.log_dir else home / "logs"
    run_dir = (run_dir or home / "run").resolve()
    for d in (log_dir, run_dir):
        d.mkdir(parents=True, exist_ok=True)
    run_dir.chmod(0o700)
    layout = Layout(sixbtc_command(), home, log_dir, run_dir, p.log_max_bytes, p.log_backups, p.stop_timeout_s)
    path = (output or home / "supervisord.conf").resolve()
    path.write_text(render(programs(c), layout))
    return path


def crash_text(crash: Crash) -> str:
    """The notification text of a crash."""
    how = "could not be started (FATAL)" if crash.event == "PROCESS_STATE_FATAL" else \
        f"exited unexpectedly (pid {crash.pid}, was {crash.from_state})"
    return f"SixBTC: {crash.group}:{crash.process} {how}; supervisord restarts it"


def listen_for_crashes(c: Container, stdin: TextIO, stdout: TextIO) -> None:
    """The event listener: record and notify each crash until standard input closes."""
    for crash in crash_events(stdin, stdout):
        try:
            alert(c, "crash", f"{crash.group}:{crash.process}", "CRITICAL", crash_text(crash))
        except Exception as exc:  # noqa: BLE001 — the listener must keep acknowledging events
            log.error("crash not recorded", process=crash.process, error=f"{type(exc).__name__}: {exc}")
