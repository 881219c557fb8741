"""What every role process shares: signals, the stop deadline, heartbeats, periodic jobs.

SIGTERM (and SIGINT) set the stop event; a role's loop checks it between steps. A role that
works on claims (``interruptible``: generator, validator, backtester) is also interrupted in
the middle of a step: the signal raises :class:`KeyboardInterrupt` there, so
:func:`~sixbtc.app.claim_guard.claim_guard` releases the current claim, open transactions roll
back and the sandbox's worker processes are stopped as the ``with`` blocks unwind. The other
roles finish their current step (an executor pass, a rotation). Either way a timer started by
the signal ends the process with exit code :data:`EXIT_FORCED` if it is still there after
``processes.stop_timeout_s`` seconds. A clean stop exits ``128 + signal`` (143 for SIGTERM).

A heartbeat thread writes ``role_heartbeats`` every ``processes.heartbeat_s`` seconds; a clean
stop records ``state = stopped`` (the watchdog only reports roles that went silent while
running). ``SIGUSR1`` writes every thread's stack to the role's log (and a forced exit does too),
so a role that hangs can be diagnosed without stopping it.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

import structlog

from sixbtc.app.container import Container
from sixbtc.app.logs import bind_role
from sixbtc.app.processes import this_host, worker_id
from sixbtc.core.errors import ConfigError, LeaseLost

#: Exit code of a role that did not stop within ``processes.stop_timeout_s``.
EXIT_FORCED = 124
#: Seconds a forced exit waits for its last heartbeat before it ends the process anyway.
_LAST_BEAT_S = 2.0
log = structlog.get_logger("sixbtc.role")


@dataclass(frozen=True)
class Job:
    """A periodic job of a role: ``run`` every ``interval_s`` seconds (first run at start)."""

    name: str
    interval_s: float
    run: Callable[[], object]


class RoleRuntime:
    """Signals, stop deadline and heartbeats of one role process (a context manager).

    Parameters
    ----------
    c : Container
        The process's container.
    role : str
        Role name (``validator`` …), in the worker id and every log line.
    interruptible : bool
        Interrupt a step in progress on SIGTERM (roles working on claims), else finish it.
    """

    def __init__(self, c: Container, role: str, *, interruptible: bool) -> None:
        self.c, self.role, self.interruptible = c, role, interruptible
        self.worker = worker_id(role)
        self.stop = threading.Event()
        self.signum: int | None = None
        self.detail: dict[str, Any] = {}  # written with each heartbeat (JSON), e.g. the executor's feed
        self._busy = False
        self._hb_stop = threading.Event()
        self._previous: dict[int, Any] = {}

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> RoleRuntime:
        bind_role(self.role, self.worker)
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous[sig] = signal.signal(sig, self._on_signal)
        faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 PID`: stacks to the log
        self._beat("running")
        threading.Thread(target=self._heartbeats, name=f"{self.role}-heartbeat", daemon=True).start()
        log.info("role started", host=this_host())
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, _tb: object) -> bool:
        self._hb_stop.set()
        faulthandler.unregister(signal.SIGUSR1)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        stopped = self.signum is not None and (exc is None or isinstance(exc, KeyboardInterrupt))
        self._beat("stopped" if stopped else "failed", detail=f"{type(exc).__name__}: {exc}" if exc and not stopped else "")
        if stopped:
            log.info("role stopped", exit_code=self.exit_code())
        return stopped  # a KeyboardInterrupt of our own signal ends the role cleanly

    def exit_code(self) -> int:
        """0 when the role ended by itself, else ``128 + signal``."""
        return 128 + self.signum if self.signum is not None else 0

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.signum is not None:
            return  # already stopping: a repeated signal must not interrupt the clean-up
        self.signum = signum
        self.stop.set()
        timer = threading.Timer(self.c.settings.processes.stop_timeout_s, self._force_exit)
        timer.daemon = True
        timer.start()
        log.info("stopping", signal=signal.Signals(signum).name, busy=self._busy)
        if self.interruptible and self._busy:
            raise KeyboardInterrupt

    def _force_exit(self) -> None:
        log.error("did not stop in time: exiting", stop_timeout_s=self.c.settings.processes.stop_timeout_s)
        faulthandler.dump_traceback(all_threads=True)  # where the role was stuck, in its log
        # the last heartbeat gets a bounded moment: a database that hangs must not hold the exit
        last = threading.Thread(target=self._beat, args=("stopped", "forced exit after processes.stop_timeout_s"),
                                daemon=True)
        last.start()
        last.join(_LAST_BEAT_S)
        os._exit(EXIT_FORCED)

    # -- heartbeats -----------------------------------------------------------------------
    def _beat(self, state: str, detail: str | None = None) -> None:
        try:
            self.c.ops.beat(self.worker, self.role, this_host(), os.getpid(), state=state,
                            detail=json.dumps(self.detail) if detail is None else detail)
        except Exception as exc:  # noqa: BLE001 — a database hiccup must not end the role
            log.warning("heartbeat failed", error=f"{type(exc).__name__}: {exc}")

    def _heartbeats(self) -> None:
        while not self._hb_stop.wait(self.c.settings.processes.heartbeat_s):
            self._beat("running")

    # -- steps ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        """A unit of work: a SIGTERM arriving inside interrupts it when ``interruptible``."""
        self._busy = True
        try:
            yield
        finally:
            self._busy = False

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` or until stopped; True when the role should go on."""
        return not self.stop.wait(seconds)

    def guarded(self, name: str, run: Callable[[], object]) -> object:
        """Run ``run()`` as a step; a failure is logged and None returned (a lost lease and a
        configuration error are re-raised: they end the role)."""
        try:
            with self.step():
                return run()
        except (LeaseLost, ConfigError):
            raise
        except Exception as exc:  # noqa: BLE001 — one failing step never ends the role
            log.error("step failed, retrying later", step=name, error=f"{type(exc).__name__}: {exc}")
            return None

    def run_every(self, jobs: list[Job], after_each: Callable[[], None] | None = None) -> None:
        """Run each job every ``interval_s`` seconds (each once at start) until stopped."""
        due = dict.fromkeys(range(len(jobs)), time.monotonic())
        while not self.stop.is_set():
            for i, job in enumerate(jobs):
                if time.monotonic() >= due[i] and not self.stop.is_set():
                    self.guarded(job.name, job.run)
                    due[i] = time.monotonic() + job.interval_s
                    if after_each is not None:
                        after_each()
            self.wait(max(0.0, min(due.values()) - time.monotonic()))
