"""The continuous service on the synthetic world (offline: the venue is a closed port on
127.0.0.1): it releases the claims of dead workers at start, holds the executor lease (a
`run --once` meanwhile is refused, naming the service), and a LIVE strategy that raises is
retired while the service and the other strategy go on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from executor_world import add_live, dead_pid, strategy_code, unreachable_venue

from sixbtc.app.processes import this_host
from sixbtc.app.service import Service
from sixbtc.domain.claims import WorkerId
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType

RAISES = 'if data["volume"][-1] >= 370: raise RuntimeError("boom at bar 370")'


def _wait(cond: Any, timeout_s: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_the_service_releases_dead_claims_holds_the_lease_and_survives_a_failing_strategy(make_world) -> None:
    c = make_world(daily_limit=0)  # nothing generated: the loop validates only the released claim
    good = add_live(c, "Strategy_MOM_00000001", strategy_code("Strategy_MOM_00000001"), ("BTC", "ETH"))
    bad = add_live(c, "Strategy_MOM_00000002", strategy_code("Strategy_MOM_00000002", trap=RAISES), ("BTC", "ETH"))
    stuck = c.strategies.add(StrategyCandidate("Strategy_MOM_000000cc", StrategyType.MOM, StrategySource.USER,
                                               "def broken(:\n", "cc"))
    c.strategies.claim(StrategyStatus.GENERATED, str(WorkerId("validator", this_host(), dead_pid())))
    logs: list[str] = []
    service = Service(c, logs.append, client=unreachable_venue())
    seen: dict[str, Any] = {}

    def watch() -> None:
        try:
            seen["traded"] = _wait(lambda: c.strategies.get(bad).status is StrategyStatus.RETIRED
                                   and len(c.trading.trades(good)) > 3)
            seen["lease"] = c.leases.current()
            seen["once"] = subprocess.run([sys.executable, "-m", "sixbtc.cli.main", "--home", str(c.home.root), "run",
                                           "--once", "--generate", "0"], capture_output=True, text=True, timeout=120)
        finally:
            service.stop.set()

    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        service.run_forever()  # before the fix: the strategy's error ended the service
    finally:
        watcher.join()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)

    assert seen["traded"], logs
    assert c.strategies.get(stuck) is None, "the dead worker's claim was released and the strategy validated"
    assert (seen["lease"].pid, seen["lease"].host) == (os.getpid(), this_host())
    once = seen["once"]
    assert once.returncode == 1
    assert "another executor is trading this database" in once.stderr and f"pid {os.getpid()} on host" in once.stderr
    assert c.leases.current().holder is None, "released when the service stopped"
    assert any("service stopped" in m for m in logs)
    assert any(m.startswith("market regimes: ") for m in logs), "a fresh home gets its regimes at the start"
    assert c.regimes.last_computed_at() is not None
