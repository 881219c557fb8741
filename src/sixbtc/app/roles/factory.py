"""The factory's roles as long-running processes: generator, validator, backtester.

Each loops until stopped: it claims one unit of work at a time through the same functions
``sixbtc run`` uses (:mod:`sixbtc.app.factory_roles`), and waits ``processes.idle_poll_s``
when there is none or back-pressure holds it (SPEC §2: the generator pauses while
GENERATED >= ``generator.max_generated_queue``, the validator while VALIDATED >=
``validator.max_validated_queue``). The window and the validation sample are planned again
whenever the queue ran empty. Claims of dead processes of this host are released at start (a
killed predecessor's, restarted by supervisord).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import structlog

from sixbtc.app.backtesting import backtest_one
from sixbtc.app.generation import generate_batch
from sixbtc.app.processes import release_dead_claims
from sixbtc.app.retesting import retest_one
from sixbtc.app.roles.runtime import RoleRuntime
from sixbtc.app.validation import validate_one, validation_sample
from sixbtc.app.window import plan_window, symbols_by_timeframe
from sixbtc.strategy.sandbox import StrategySandbox

#: Strategies asked from the generator per step.
GENERATE_BATCH = 10
log = structlog.get_logger("sixbtc.role")


def run_generator(rt: RoleRuntime) -> None:
    """Generate batches within the daily limit (counted in the database) and back-pressure."""
    c = rt.c
    rng = np.random.default_rng(c.settings.generator.seed)
    while not rt.stop.is_set():
        made = rt.guarded("generate", lambda: generate_batch(c, GENERATE_BATCH, rng))
        created = made[0] if isinstance(made, tuple) else 0
        if created:
            log.info("generated", created=created, dropped=made[1])
        else:
            rt.wait(c.settings.processes.idle_poll_s)


def run_validator(rt: RoleRuntime) -> None:
    """Validate GENERATED strategies one claim at a time (in this process's sandbox)."""
    c = rt.c
    release_dead_claims(c)
    with StrategySandbox(c.sandbox_limits()) as sandbox:
        sample = None
        while not rt.stop.is_set():
            if c.strategies.counts_by_status()["VALIDATED"] >= c.settings.validator.max_validated_queue:
                rt.wait(c.settings.processes.idle_poll_s)  # back-pressure
                continue
            if sample is None:
                sample = rt.guarded("plan", lambda: validation_sample(c, plan_window(c.store, c.settings, c.clock)))
            did = sample is not None and rt.guarded("validate", lambda s=sample: validate_one(c, sandbox, s, rt.worker))
            if not did:
                sample = None
                rt.wait(c.settings.processes.idle_poll_s)


def _backtest_step(rt: RoleRuntime, sandbox: StrategySandbox) -> Callable[[], bool]:
    c = rt.c
    window = plan_window(c.store, c.settings, c.clock)
    symbols = symbols_by_timeframe(c.store, c.settings, window, c.registry.get_active_pairs())
    return lambda: (retest_one(c, sandbox, window, rt.worker, symbols)
                    or backtest_one(c, sandbox, window, symbols, rt.worker))


def run_backtester(rt: RoleRuntime) -> None:
    """A due re-test first, else a VALIDATED strategy (the elastic worker of SPEC §3.4)."""
    c = rt.c
    release_dead_claims(c)
    with StrategySandbox(c.sandbox_limits()) as sandbox:
        step = None
        while not rt.stop.is_set():
            if step is None:
                step = rt.guarded("plan", lambda: _backtest_step(rt, sandbox))
            if not (step is not None and rt.guarded("backtest", step)):
                step = None
                rt.wait(c.settings.processes.idle_poll_s)
