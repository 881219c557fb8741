"""Settings the service and ``run --once`` must honour: the validator pauses under
back-pressure (VALIDATED queue full) in its worker loop, the validator count is
``validator.workers`` (not ``generator.workers``), and the rotator runs on its own interval,
not on every pass of the main loop."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from executor_world import strategy_code, unreachable_venue

from sixbtc.app.processes import this_host
from sixbtc.app.service import Service
from sixbtc.app.window import plan_window
from sixbtc.app.workers import role_worker, validator_room
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType
from sixbtc.scheduler.tasks import TASKS


def _add(c: Any, i: int) -> int:
    name = f"Strategy_MOM_{i:08d}"
    return c.strategies.add(StrategyCandidate(name, StrategyType.MOM, StrategySource.USER, strategy_code(name), f"{i:x}"))


def test_the_validator_stops_claiming_while_the_validated_queue_is_full(make_world) -> None:
    c = make_world(daily_limit=0)
    cfg = c.home.config_path
    cfg.write_text(cfg.read_text().replace("validator:\n", "validator:\n  max_validated_queue: 1\n"))
    c.settings.validator.max_validated_queue = 1  # the worker reads the file, this process the settings
    ids = [_add(c, i) for i in (1, 2, 3)]
    window = plan_window(c.store, c.settings, c.clock).to_json()
    assert validator_room(c)
    assert role_worker(str(c.home.root), "validator", window) == 1  # validates one, then the queue is full
    counts = c.strategies.counts_by_status()
    assert (counts["VALIDATED"], counts["GENERATED"]) == (1, 2), counts
    assert not validator_room(c)
    assert role_worker(str(c.home.root), "validator", window) == 0  # paused: nothing claimed
    assert c.strategies.counts_by_status()["GENERATED"] == 2
    claims = [c.strategies.claim(StrategyStatus.GENERATED, "test") for _ in ids]
    assert sum(r is not None for r in claims) == 2, "no claim was left behind"
    assert c.processes.on_host(this_host()) == [], "the worker left the pid registry"


def test_the_rotator_runs_on_its_interval_not_on_every_loop_pass(make_world) -> None:
    c = make_world(daily_limit=0)
    c.settings.executor.poll_interval_s = 0.05  # a loop pass every 50 ms or so
    logs: list[str] = []
    service = Service(c, logs.append, client=unreachable_venue())
    jobs = {j.id: j for j in service._scheduler().get_jobs()}
    assert jobs["rotator"].trigger.interval.total_seconds() == 15 * 60
    assert {f"task:{t}" for t in TASKS} <= set(jobs), "the service runs the scheduled tasks in-process"
    c.settings.scheduler.enabled = False
    assert not any(j.startswith("task:") for j in (j.id for j in service._scheduler().get_jobs()))
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    stopper = threading.Thread(target=lambda: (_wait(lambda: any("service started" in m for m in logs)),
                                               time.sleep(3), service.stop.set()))
    stopper.start()
    try:
        service.run_forever()
    finally:
        stopper.join()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    rotations = [m for m in logs if m.startswith("rotator: ")]
    assert len(rotations) == 1, logs  # at the start; the next one 15 min later, not on each pass


def _wait(cond: Any, timeout_s: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not cond():
        time.sleep(0.05)
    return cond()
