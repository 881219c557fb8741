"""Benchmark (issue 13): factory throughput on PostgreSQL with 1 and 2 backtester processes and
with a 2-worker Dask LocalCluster, and the claim rate the database sustains with 8 workers.

Run (under nice on a shared machine)::

    nice -n 10 .venv/bin/python benchmarks/bench_cluster.py [--strategies 12] [--claims 2000]
        [--data DIR]

What it does (prints figures, asserts nothing):

1. A throwaway PostgreSQL cluster (:mod:`sixbtc.testing.postgres`), one database per scenario.
2. **Throughput.** Each scenario gets a fresh home on its own database with the same candles
   (the last ``--bars`` 1h bars of BTC, ETH and SOL from ``--data``) and the same
   ``--strategies`` GENERATED strategies (template source, fixed seed). Timed: the validator
   stage (1 validator process) and then the backtest stage (``k`` backtester processes) of
   ``sixbtc run --once`` (:func:`sixbtc.app.workers.run_role_pool`, spawned processes that
   claim from the database), until both queues are empty. ``per_hour`` = strategies through
   validate + backtest (each has a verdict) / wall time x 3600. Scenarios: ``per_hour_1`` (1
   backtester), ``per_hour_2`` (2 backtesters), ``per_hour_dask`` (1 backtester with
   ``backtest.executor: dask`` on a ``LocalCluster`` of 2 worker processes x 1 thread,
   ``dask_min_sets`` 1 so every search rung is fanned out). The protocol is reduced (below)
   so that a run takes minutes: the figures compare the set-ups, they are not the default
   protocol's rate.
3. **Claim rate.** ``--claims`` dummy GENERATED rows; 8 spawned processes, each on its own
   engine, claim one row at a time (``FOR UPDATE SKIP LOCKED``) and move it to VALIDATED with
   its fencing token until none is left. ``claims_per_s`` = rows / wall time from the moment
   all 8 are ready (a barrier). The script checks every row was claimed exactly once.

The last line is ``cluster: per_hour_1=A per_hour_2=B per_hour_dask=C claims_per_s=D``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.adapters.storage.db import make_engine, migrate
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.app.container import Container
from sixbtc.app.generation import generate_batch
from sixbtc.app.home import Home
from sixbtc.app.window import plan_window
from sixbtc.app.workers import run_role_pool
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType
from sixbtc.testing.postgres import ThrowawayPostgres

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance_usdm"
SYMBOLS = ("BTC", "ETH", "SOL")
CONFIG = """
database:
  url: {url}
data:
  coins: [BTC, ETH, SOL]
generator:
  daily_limit: 100000
  sources: [template]
  max_grid: 64
  seed: 3
validator:
  sample_bars: 500
backtest:
  timeframes: [1h]
  max_coins: 3
  is_days: 60
  oos_days: 30
  confirm_days: 0
  confirm_twins: 0
  max_param_sets: 64
  min_trades: 3
  max_degradation: 1.0
  search_rungs: 2
  screen_coins: 1
  wfa_windows: 2
  shuffle_permutations: 10
  min_excess_return: -100
  workers: {workers}
  elastic_workers: 0
  executor: {executor}
  dask_scheduler: {scheduler}
  dask_min_sets: 1
scoring:
  multiple_testing_gate: false
active_pool:
  min_score: 0
executor:
  replay_days: 5
"""


def _store(root: Path, bars: int, data: Path) -> Path:
    store_dir = root / "store-template"
    store = ParquetCandleStore(store_dir)
    for sym in SYMBOLS:
        frame = pd.read_parquet(data / f"{sym}_1h.parquet").sort_values("timestamp").tail(bars)
        store.write_candles(sym, "1h", frame.reset_index(drop=True))
    return store_dir


def _home(root: Path, name: str, store_dir: Path, url: str, workers: int, scheduler: str | None) -> Container:
    home = Home(root / name).ensure()
    shutil.rmtree(home.store_dir)
    shutil.copytree(store_dir, home.store_dir)
    home.config_path.write_text(CONFIG.format(url=url, workers=workers, executor="dask" if scheduler else "local",
                                              scheduler=scheduler or "null"))
    return Container.open(home)


def throughput(c: Container, n: int, backtesters: int) -> tuple[float, dict[str, int]]:
    """Strategies per hour through validate + backtest, and the final status counts."""
    generate_batch(c, n, np.random.default_rng(3))
    made = c.strategies.counts_by_status()["GENERATED"]
    window = plan_window(c.store, c.settings, c.clock)
    t0 = time.perf_counter()
    run_role_pool(c, "validator", 1, window)
    run_role_pool(c, "backtester", backtesters, window)
    elapsed = time.perf_counter() - t0
    counts = c.strategies.counts_by_status()
    assert counts["GENERATED"] == counts["VALIDATED"] == 0, counts
    return made / elapsed * 3600.0, {k: v for k, v in counts.items() if v} | {
        "generated": made, "seconds": round(elapsed, 1), "rejected": c.strategies.rejections_by_reason()}


def _candidate(i: int) -> StrategyCandidate:
    return StrategyCandidate(f"Strategy_MOM_{i:06d}", StrategyType.MOM, StrategySource.TEMPLATE, f"# {i}\n",
                             f"{i:064x}", {"i": i})


def claim_worker(url: str, name: str, barrier: Any, out: Any) -> None:
    """Claim GENERATED rows until none is left; report the ids claimed."""
    engine = make_engine(url)
    repo, ids = StrategyRepository(engine), []
    barrier.wait(timeout=120)
    while (rec := repo.claim(StrategyStatus.GENERATED, name)) is not None:
        repo.transition(rec.id, rec.claim_token, StrategyStatus.VALIDATED, phase="validator", reason="bench")
        ids.append(rec.id)
    out.put(ids)
    engine.dispose()


def claim_rate(url: str, rows: int, workers: int = 8) -> float:
    """Claims per second of ``workers`` processes draining ``rows`` GENERATED rows."""
    engine = make_engine(url)
    migrate(engine)
    repo = StrategyRepository(engine)
    for i in range(rows):
        repo.add(_candidate(i))
    engine.dispose()
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(workers + 1), ctx.Queue()
    procs = [ctx.Process(target=claim_worker, args=(url, f"w{k}", barrier, out)) for k in range(workers)]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    t0 = time.perf_counter()
    claimed = [i for _ in procs for i in out.get(timeout=600)]
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=30)
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == rows, "a row claimed twice or never"
    return rows / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--strategies", type=int, default=12)
    ap.add_argument("--claims", type=int, default=2000)
    ap.add_argument("--bars", type=int, default=24 * 115)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    from distributed import LocalCluster  # noqa: PLC0415 — only this scenario needs it

    root = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    try:
        with ThrowawayPostgres() as pg:
            store_dir = _store(root, args.bars, args.data)
            rates = {}
            for label, workers in (("per_hour_1", 1), ("per_hour_2", 2)):
                c = _home(root, label, store_dir, pg.create_database(label), workers, None)
                rates[label], counts = throughput(c, args.strategies, workers)
                print(f"{label}: {rates[label]:.0f} strategies/h  {counts}", flush=True)
                c.engine.dispose()
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
                c = _home(root, "dask", store_dir, pg.create_database("dask"), 1, lc.scheduler_address)
                rates["per_hour_dask"], counts = throughput(c, args.strategies, 1)
                prefix = lc.scheduler.task_prefixes.get("run_grid_job")  # falsy once no task is held
                done = prefix.state_counts["memory"] if prefix is not None else 0
                print(f"per_hour_dask: {rates['per_hour_dask']:.0f} strategies/h  {counts} (grid jobs computed "
                      f"on the cluster: {done})", flush=True)
                c.engine.dispose()
            claims = claim_rate(pg.create_database("claims"), args.claims)
            print(f"claims: {args.claims} rows, 8 processes: {claims:.0f} claims/s", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"cluster: per_hour_1={rates['per_hour_1']:.0f} per_hour_2={rates['per_hour_2']:.0f} "
          f"per_hour_dask={rates['per_hour_dask']:.0f} claims_per_s={claims:.0f}")


if __name__ == "__main__":
    main()
