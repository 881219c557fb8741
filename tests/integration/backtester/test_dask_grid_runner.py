"""``backtest.executor: dask``: the parameter search fanned out to a Dask ``LocalCluster`` of 2
workers gives results identical to the in-process run (signal and grid strategies), through the
real ``dask.distributed`` client; an unreachable scheduler is a clear error."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from distributed import LocalCluster

from sixbtc.adapters.compute.dask_runner import DaskGridRunner, DaskUnavailable
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.backtester.coinset import CoinSeries
from sixbtc.backtester.grid_jobs import LocalGridRunner
from sixbtc.backtester.search import SearchConfig, SearchResult, search
from sixbtc.config import Settings

N = 2500


def _ohlc(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.cumprod(1.0 + rng.normal(0.0002, 0.006, N))
    open_ = np.concatenate(([100.0], close[:-1]))
    return {"open": open_, "high": np.maximum(open_, close) * 1.002, "low": np.minimum(open_, close) / 1.002,
            "close": close, "volume": np.ones(N)}


class Crossing:
    """Signal source: enter when close crosses above its ``a``-bar mean, exit ``b`` bars later."""

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        close = data["close"]
        entries, exits = [], []
        for p in params_list:
            mean = np.convolve(close, np.ones(p["a"]) / p["a"], mode="full")[: len(close)]
            above = close > mean
            ent = above & ~np.roll(above, 1)
            ent[: p["a"]] = False
            entries.append(ent)
            exits.append(np.roll(ent, p["b"]))
        return np.stack(entries), np.stack(exits)


class Levels:
    """Grid source (float ``center, step``): center = ``a``-bar mean, step = ``k`` x 0.2 % of close."""

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        close = data["close"]
        centers, steps = [], []
        for p in params_list:
            mean = np.convolve(close, np.ones(p["a"]) / p["a"], mode="full")[: len(close)]
            mean[: p["a"]] = np.nan
            centers.append(mean)
            steps.append(close * 0.002 * p["k"])
        return np.stack(centers), np.stack(steps)


SIGNAL_PARAMS = [{"a": a, "b": b, "sl_pct": sl, "tp_pct": 0.04} for a in (5, 10, 20, 40) for b in (3, 8, 15)
                 for sl in (0.01, 0.02, 0.04)]
GRID_PARAMS = [{"a": a, "k": k, "levels": lv, "sl_pct": 0.03} for a in (10, 30, 60) for k in (1, 2, 4)
               for lv in (1, 2, 3)]


def _search(source: Any, params: list[dict[str, Any]], runner: Any) -> SearchResult | None:
    coins = [CoinSeries(f"C{k}", _ohlc(k), np.full(N, 1e-5), 300, 1800, 8760.0, source, params, 1, (0.00045, 2.0))
             for k in range(6)]
    cfg = SearchConfig(rungs=3, eta=3, screen_coins=2)
    return search(coins, params, 3, cfg, screen_returns=True, runner=runner)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as lc:
        yield lc


def _same(a: SearchResult | None, b: SearchResult | None) -> None:
    assert a is not None and b is not None
    assert (a.chosen, a.survivors, a.is_sharpe, a.trials, a.rungs) == (b.chosen, b.survivors, b.is_sharpe, b.trials,
                                                                      b.rungs)
    for x, y in zip(a.is_results, b.is_results, strict=True):
        for name in x.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name))
    for rx, ry in zip(a.ledger, b.ledger, strict=True):
        np.testing.assert_array_equal(rx.sharpe, ry.sharpe)
        np.testing.assert_array_equal(rx.n_trades, ry.n_trades)


@pytest.mark.parametrize(("source", "params"), [(Crossing(), SIGNAL_PARAMS), (Levels(), GRID_PARAMS)],
                         ids=["signals", "grid-levels"])
def test_search_on_a_two_worker_cluster_equals_the_in_process_search(cluster: LocalCluster, source: Any,
                                                                     params: list[dict[str, Any]]) -> None:
    assert len(cluster.workers) == 2
    runner = DaskGridRunner(cluster.scheduler_address, min_sets=1, timeout_s=60)
    try:
        on_cluster = _search(source, params, runner)
        assert runner.fanned_out == len(on_cluster.rungs)  # every rung went to the cluster
    finally:
        runner.close()
    _same(_search(source, params, LocalGridRunner()), on_cluster)
    computed = cluster.scheduler.task_prefixes["run_grid_job"].state_counts["memory"]
    assert computed >= sum(coins for _, coins in on_cluster.rungs)  # one job per coin and rung, run by Dask


def test_small_rungs_stay_in_process_and_need_no_scheduler() -> None:
    runner = DaskGridRunner("tcp://127.0.0.1:1", min_sets=10_000, timeout_s=1)
    _same(_search(Crossing(), SIGNAL_PARAMS, None), _search(Crossing(), SIGNAL_PARAMS, runner))
    assert runner.fanned_out == 0


def test_an_unreachable_scheduler_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    runner = DaskGridRunner(f"tcp://127.0.0.1:{port}", min_sets=1, timeout_s=1)
    with pytest.raises(DaskUnavailable, match="backtest.dask_scheduler"):
        _search(Crossing(), SIGNAL_PARAMS, runner)


def test_the_container_builds_the_configured_runner(tmp_path) -> None:
    local = Container(Home(tmp_path / "a"), Settings())
    assert isinstance(local.grid_runner, LocalGridRunner)
    dask = Container(Home(tmp_path / "b"), Settings(backtest={"executor": "dask", "dask_scheduler": "tcp://10.0.0.5:8786",
                                                              "dask_min_sets": 7}))
    assert isinstance(dask.grid_runner, DaskGridRunner)
    assert (dask.grid_runner.address, dask.grid_runner.min_sets) == ("tcp://10.0.0.5:8786", 7)
