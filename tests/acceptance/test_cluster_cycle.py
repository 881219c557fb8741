"""Acceptance (issue 13, scale-out): every role as its own ``sixbtc worker ROLE`` process on a
throwaway PostgreSQL completes a factory cycle, generated -> validated -> ACTIVE -> LIVE -> paper
orders, on a slice of the real BTC 1h candles, while each role is restarted once mid-cycle
(the validator and the backtester with SIGKILL, holding claims; the others with SIGTERM).
Afterwards nothing is lost (every generated strategy has an outcome, no claim is left, the
daily limit is met exactly) and nothing is done twice (one validation and one backtest verdict
per strategy, one trial-ledger entry per strategy, timeframe, kind and rung, one entry order
per strategy and bar).

The cycle is made small by configuration (one coin, short windows, small grids, no shuffle or
walk-forward test, relaxed gates). Measured on the shared 2-core machine: 147 s at load 10,
218 s at load 12, most of it Python start-up of the role processes (80 s for the first six at once).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.adapters.storage.db import make_engine, migrate
from sixbtc.app.home import Home
from sixbtc.testing.postgres import ThrowawayPostgres

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance_usdm"
SIXBTC = Path(sys.executable).with_name("sixbtc")
ROLES = ("generator", "validator", "backtester", "rotator", "executor", "monitor")
LIMIT = 6  # strategies generated today: the whole cycle
WAIT_S = 180  # per stage; process start-up dominates on a loaded machine
BARS = 24 * 34  # warm-up + IS 16 d + OOS 8 d + replay 6 d, with a margin
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}
CONFIG = """
database:
  url: {url}
data:
  network_probe_timeout_s: 1
  coins: [BTC]
generator:
  daily_limit: {limit}
  workers: 1
  sources: [template]
  max_grid: 4
  seed: 11
validator:
  sample_bars: 300
  cut_points: 2
  extra_cut_points: 1
backtest:
  timeframes: [1h]
  max_coins: 1
  is_days: 16
  oos_days: 8
  confirm_days: 0
  confirm_twins: 0
  warmup_bars: 60
  max_param_sets: 4
  min_trades: 1
  max_degradation: 1.0
  search_rungs: 1
  wfa_windows: 0
  shuffle_permutations: 0
  causality_cuts: 1
  min_excess_return: -100
  workers: 1
  elastic_workers: 0
scoring:
  multiple_testing_gate: false
active_pool:
  min_score: 0
rotator:
  min_score_live: 0
  require_confirmation: false
  max_live_strategies: 3
executor:
  replay_days: 6
  poll_interval_s: 1
processes:
  idle_poll_s: 0.3
  heartbeat_s: 1
  stop_timeout_s: 8
"""


def _env() -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith(("SIXBTC", "NO_PROXY"))}
    return base | OFFLINE


class Roles:
    """The role processes of one home, their logs and restarts."""

    def __init__(self, home: Path, logs: Path) -> None:
        self.home, self.logs = home, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.starts: dict[str, int] = dict.fromkeys(ROLES, 0)

    def start(self, role: str) -> None:
        self.starts[role] += 1
        out = (self.logs / f"{role}-{self.starts[role]}.log").open("wb")
        self.procs[role] = subprocess.Popen([str(SIXBTC), "--home", str(self.home), "worker", role], stdout=out,
                                            stderr=subprocess.STDOUT, env=_env())

    def restart(self, signals: dict[str, int]) -> None:
        """Stop each role with its signal, wait for them, start them again (all at once)."""
        for role, sig in signals.items():
            self.procs[role].send_signal(sig)
        for role in signals:
            self.procs[role].wait(timeout=30)
        for role in signals:
            self.start(role)

    def stop_all(self) -> dict[str, int | None]:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = {}
        for role, proc in self.procs.items():
            try:
                codes[role] = proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGUSR1)  # its stacks go to its log, shown by tail()
                time.sleep(1.0)
                proc.kill()
                codes[role] = None
        return codes

    def tail(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-1500:] for p in sorted(self.logs.glob("*.log")))


def _one(db: Engine, sql: str) -> int:
    with db.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def _wait(check: Callable[[], bool], timeout_s: float, what: str, roles: Roles) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        for role, proc in roles.procs.items():
            assert proc.poll() is None, f"{role} exited ({proc.returncode}) while waiting for {what}\n{roles.tail()}"
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}\n{roles.tail()}")


def _home(tmp_path: Path, url: str) -> Path:
    home = tmp_path / "home"
    store = ParquetCandleStore(Home(home).ensure().store_dir)
    frame = pd.read_parquet(DATA / "BTC_1h.parquet").sort_values("timestamp").tail(BARS).reset_index(drop=True)
    store.write_candles("BTC", "1h", frame)
    (home / "config.yaml").write_text(CONFIG.format(url=url, limit=LIMIT))
    return home


@pytest.mark.timeout(600)  # six Python processes start at once; on a loaded 2-core machine that alone takes a minute
def test_every_role_in_its_own_process_on_postgresql_survives_a_restart_each(pg_server: ThrowawayPostgres,
                                                                             tmp_path: Path) -> None:
    if not (DATA / "BTC_1h.parquet").exists():
        pytest.skip(f"real market data not found at {DATA} (../shared/data is absent)")
    url = pg_server.create_database("cluster_cycle")
    home, logs = _home(tmp_path, url), tmp_path / "logs"
    logs.mkdir()
    db = make_engine(url)
    migrate(db)  # once, before the roles start
    roles = Roles(home, logs)
    t0 = time.monotonic()
    try:
        for role in ROLES:
            roles.start(role)
        event = "SELECT count(*) FROM strategy_events WHERE from_status = '{0}' AND to_status {1}"
        _wait(lambda: _one(db, event.format("GENERATED", "= 'VALIDATED'")) >= 1, WAIT_S, "a first validation", roles)
        # the validator and (below) the backtester are killed: their successors release their claims
        roles.restart({"generator": signal.SIGTERM, "validator": signal.SIGKILL})
        pool = "SELECT count(*) FROM strategies WHERE status IN ('ACTIVE', 'LIVE')"
        _wait(lambda: _one(db, pool) >= 1, WAIT_S, "a strategy in the pool", roles)
        roles.restart({"backtester": signal.SIGKILL, "rotator": signal.SIGTERM,  # a rotation runs at start: LIVE
                       "monitor": signal.SIGTERM})
        _wait(lambda: _one(db, "SELECT count(*) FROM orders") >= 1, WAIT_S, "a first paper order", roles)
        roles.restart({"executor": signal.SIGTERM})
        made = "SELECT count(*) FROM strategy_events WHERE from_status IS NULL AND to_status = 'GENERATED'"
        done = ("SELECT count(*) FROM strategies WHERE status IN ('GENERATED', 'VALIDATED') "
                "OR processing_by IS NOT NULL")
        pids = ", ".join(str(p.pid) for p in roles.procs.values())
        running = f"SELECT count(*) FROM role_heartbeats WHERE state = 'running' AND pid IN ({pids})"
        _wait(lambda: _one(db, made) == LIMIT and _one(db, done) == 0 and _one(db, running) == len(ROLES), WAIT_S,
              "the factory to drain and every restarted role to run", roles)
        codes = roles.stop_all()
    finally:
        for proc in roles.procs.values():
            if proc.poll() is None:
                proc.kill()
    elapsed = time.monotonic() - t0
    assert all(code == 128 + signal.SIGTERM for code in codes.values()), (codes, roles.tail())
    _assert_nothing_lost_or_done_twice(db)
    db.dispose()
    print(f"cluster cycle: {elapsed:.1f} s, starts {roles.starts}")  # noqa: T201


def _assert_nothing_lost_or_done_twice(db: Engine) -> None:
    with db.connect() as conn:
        q = lambda sql: conn.execute(text(sql)).all()  # noqa: E731
        generated = q("SELECT strategy_name FROM strategy_events WHERE from_status IS NULL AND to_status = 'GENERATED'")
        assert len(generated) == LIMIT == len({n for (n,) in generated}), "daily limit exactly, no name twice"
        statuses = dict(q("SELECT status, count(*) FROM strategies GROUP BY status"))
        rejected = q("SELECT count(*) FROM strategy_events WHERE to_status IS NULL AND from_status IS NOT NULL")[0][0]
        assert sum(statuses.values()) + rejected == LIMIT, (statuses, rejected)  # every strategy has an outcome
        assert statuses.get("LIVE", 0) >= 1, statuses
        assert q("SELECT count(*) FROM strategies WHERE processing_by IS NOT NULL")[0][0] == 0
        twice = q("SELECT strategy_name, from_status, count(*) FROM strategy_events WHERE from_status IN "
                  "('GENERATED', 'VALIDATED') AND (to_status IS NULL OR to_status <> from_status) "
                  "GROUP BY strategy_name, from_status HAVING count(*) > 1")
        assert twice == [], f"validated or backtested twice: {twice}"
        dup_trials = q("SELECT strategy_id, timeframe, kind, rung, count(*) FROM trials "
                       "GROUP BY strategy_id, timeframe, kind, rung HAVING count(*) > 1")
        assert dup_trials == [], f"trials recorded twice: {dup_trials}"
        entries = q("SELECT strategy_id, signal_ms, count(*) FROM orders WHERE leg = 'entry' "
                    "GROUP BY strategy_id, signal_ms HAVING count(*) > 1")
        assert entries == [], f"an entry ordered twice: {entries}"
        assert q("SELECT count(*) FROM orders")[0][0] >= 1
        live_orders = q("SELECT count(*) FROM orders o JOIN strategies s ON s.id = o.strategy_id "
                        "WHERE s.status = 'LIVE' AND o.mode = 'paper'")[0][0]
        assert live_orders >= 1
