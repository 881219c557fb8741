"""Backtest protocol: successive-halving search, walk-forward folds, verdicts, re-test.

Synthetic candles carry a planted edge: every bar ``i`` with ``i % 10 == 4`` rises 1 %
(open = previous close), other bars are noise. The fake strategy enters on bar ``i`` when
``i % period == offset`` and exits one bar later, so ``period=10, offset=3`` catches every
planted bar — the true best set.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sixbtc.backtester.coinset import load_series
from sixbtc.backtester.plausibility import PlausibilityBounds
from sixbtc.backtester.protocol import BacktestPlan, run_backtest, run_retest, run_timeframe
from sixbtc.backtester.search import SearchConfig, rung_plan, successive_halving
from sixbtc.backtester.walkforward import fold_bounds, walk_forward

T0 = pd.Timestamp("2025-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)
N_BARS = 1500
PHASE = 4


def candles(seed: int, n: int = N_BARS, edge: float = 0.01) -> pd.DataFrame:
    """1h OHLCV with a planted +``edge`` move on bars ``i % 10 == PHASE``."""
    rng = np.random.default_rng(seed)
    ret = rng.normal(0.0, 0.004, n)
    ret[np.arange(n) % 10 == PHASE] += edge
    close = 100.0 * np.cumprod(1.0 + ret)
    open_ = np.concatenate(([100.0], close[:-1]))
    wick = 1.0 + np.abs(rng.normal(0.0, 0.001, n))
    return pd.DataFrame({"timestamp": T0 + HOUR * np.arange(n), "open": open_,
                         "high": np.maximum(open_, close) * wick, "low": np.minimum(open_, close) / wick,
                         "close": close, "volume": np.full(n, 1e6)})


class FakeCandles:
    """In-memory CandleSource; records the latest ``end`` asked for."""

    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        self.frames = frames
        self.max_end: pd.Timestamp | None = None

    def read_candles(self, symbol: str, timeframe: str, start: pd.Timestamp | None = None,
                     end: pd.Timestamp | None = None) -> pd.DataFrame:
        if timeframe != "1h" or symbol not in self.frames:
            return self.frames[next(iter(self.frames))].iloc[:0]
        self.max_end = end if self.max_end is None or (end is not None and end > self.max_end) else self.max_end
        df = self.frames[symbol]
        ts = df["timestamp"]
        return df[((ts >= start) if start is not None else True) & ((ts < end) if end is not None else True)]

    def read_funding(self, symbol: str, start: pd.Timestamp | None = None,
                     end: pd.Timestamp | None = None) -> pd.DataFrame:
        return pd.DataFrame({"timestamp": pd.DatetimeIndex([], tz="UTC"), "rate": np.zeros(0)})


class PeriodicSignals:
    """Deterministic fake SignalSource: enter on ``i % period == offset``, exit a bar later.

    Counts signal calls, parameter sets computed, and the longest series seen.
    """

    def __init__(self) -> None:
        self.calls = 0
        self.sets_computed = 0
        self.max_bars = 0

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        n = len(data["close"])
        self.calls += 1
        self.sets_computed += len(params_list)
        self.max_bars = max(self.max_bars, n)
        idx = np.arange(n)
        entries = np.stack([(idx % p["period"]) == p["offset"] for p in params_list])
        exits = np.roll(entries, 1, axis=1)
        exits[:, 0] = False
        return entries, exits


def grid() -> list[dict[str, Any]]:
    return [{"period": p, "offset": o, "sl_pct": 0.0, "tp_pct": 0.0} for p in (7, 10, 13) for o in range(7)]


#: The planted edge (+1 % every 10th bar over 0.4 % noise) scores a pooled OOS Sharpe of 28 with
#: 99 % winners: far beyond any real strategy, so the plausibility gate would reject it as
#: ``suspect:lookahead`` (tested in ``test_protocol_lookahead.py``). These tests are about the
#: search and the other gates and open that gate.
NO_PLAUSIBILITY_GATE = PlausibilityBounds(max_sharpe=1e9, rate_sharpe=1e9)


def plan(symbols: list[str], **kw: Any) -> BacktestPlan:
    """IS = bars [100, 1000), OOS = [1000, 1400) of the 1500-bar series (warm-up 100 bars)."""
    base = dict(search=SearchConfig(rungs=3, eta=3, screen_coins=1), shuffle_permutations=0, min_trades=5,
                max_degradation=0.6, plausibility=NO_PLAUSIBILITY_GATE)
    base.update(kw)
    return BacktestPlan({"1h": symbols}, T0 + 100 * HOUR, T0 + 1000 * HOUR, T0 + 1400 * HOUR, 100, 0.0, 0.0,
                        **base)


@pytest.fixture(scope="module")
def market() -> FakeCandles:
    return FakeCandles({f"C{k}": candles(seed=k) for k in range(5)})


def test_rung_plan_shrinks_sets_and_grows_coins() -> None:
    assert rung_plan(21, 5, SearchConfig(3, 3, 1)) == [(21, 1), (7, 3), (3, 5)]
    assert rung_plan(21, 5, SearchConfig(1, 3, 1)) == [(21, 5)]  # exhaustive grid
    assert rung_plan(21, 2, SearchConfig(3, 3, 3)) == [(21, 2)]  # screening would use every coin
    assert rung_plan(1000, 30, SearchConfig(4, 3, 3)) == [(1000, 3), (334, 9), (112, 27), (38, 30)]
    with pytest.raises(ValueError, match="eta"):
        SearchConfig(rungs=2, eta=1)


def test_successive_halving_keeps_the_true_best_and_counts_trials(market: FakeCandles) -> None:
    src = PeriodicSignals()
    p = plan([f"C{k}" for k in range(5)])
    run = run_timeframe(src, market, p, "1h", grid(), direction=1)
    assert run is not None
    assert run.params == {"period": 10, "offset": 3, "sl_pct": 0.0, "tp_pct": 0.0}
    assert run.trials == 21 * 1 + 7 * 3 + 3 * 5 + 5  # three IS rungs + one OOS run per coin
    # signals computed only for survivors on the coins added by each rung
    assert src.sets_computed == 21 * 1 + 7 * 2 + 3 * 2
    assert len(run.survivors) == 3 and run.param_index in run.survivors
    assert all(c.oos_metrics["total_return"] > 0 for c in run.coins)


def test_exhaustive_grid_agrees_with_the_search_on_an_easy_case(market: FakeCandles) -> None:
    src = PeriodicSignals()
    coins = [s for k in range(5) if (s := load_series(market, src, f"C{k}", "1h", (T0 + 100 * HOUR, T0 + 1000 * HOUR,
                                                      T0 + 1400 * HOUR), 100, grid(), 1, (0.0, 0.0))) is not None]
    full = successive_halving(coins, 21, 5, SearchConfig(rungs=1))
    assert full is not None and full.trials == 21 * 5 and full.survivors == list(range(21))
    assert grid()[full.chosen] == {"period": 10, "offset": 3, "sl_pct": 0.0, "tp_pct": 0.0}


@pytest.mark.parametrize(("start", "end", "k"), [(0, 600, 4), (250, 4571, 4), (10, 16, 4), (0, 1000, 1), (3, 977, 7)])
def test_fold_bounds_never_overlap_and_end_at_the_oos_end(start: int, end: int, k: int) -> None:
    folds = fold_bounds(start, end, k)
    assert len(folds) == k and folds[0][0] == start and folds[-1][2] == end
    for tr0, tr1, te1 in folds:
        assert start <= tr0 < tr1 < te1 <= end  # train [tr0, tr1) strictly before test [tr1, te1)
    tests = [(tr1, te1) for _, tr1, te1 in folds]
    assert all(a[1] == b[0] for a, b in zip(tests, tests[1:], strict=False))  # test segments tile
    assert len({te1 - tr1 for _, tr1, te1 in folds}) == 1 and len({tr1 - tr0 for tr0, tr1, _ in folds}) == 1


def test_fold_bounds_reject_too_short_spans() -> None:
    with pytest.raises(ValueError, match="too few"):
        fold_bounds(0, 5, 4)
    with pytest.raises(ValueError, match="at least 1 fold"):
        fold_bounds(0, 100, 0)


def test_walk_forward_uses_only_data_up_to_the_oos_end(market: FakeCandles) -> None:
    src = PeriodicSignals()
    p = plan([f"C{k}" for k in range(3)])
    run = run_timeframe(src, market, p, "1h", grid(), direction=1)
    wfa = walk_forward(run.series, run.survivors, 4, p.min_trades)
    assert market.max_end == p.oos_end and src.max_bars == 1400  # warm-up + IS + OOS, never beyond
    assert [f.index for f in wfa.folds] == [0, 1, 2, 3]
    assert wfa.consistency == 1.0 and wfa.efficiency > 0.5  # a stable edge survives every fold
    assert all(grid()[f.chosen]["period"] == 10 for f in wfa.folds)
    assert wfa.trials == (len(run.survivors) + 1) * 3 * 4 == (7 + 1) * 3 * 4  # rungs (21, 1 coin), (7, 3 coins)


def test_run_backtest_passes_a_planted_edge_and_records_trials(market: FakeCandles) -> None:
    p = plan([f"C{k}" for k in range(5)], wfa_windows=4)
    out = run_backtest(PeriodicSignals(), market, p, grid(), direction=1)
    assert out.reason is None, out.detail
    assert out.wfa is not None and out.wfa.consistency == 1.0
    assert out.trials == out.best.trials + out.wfa.trials


def test_walkforward_gate_rejects_a_losing_strategy(market: FakeCandles) -> None:
    # short the planted up-moves: every fold loses; degradation, excess and trade gates opened up
    p = plan([f"C{k}" for k in range(3)], max_degradation=1.0, wfa_min_consistency=0.5, min_excess_return=-100.0)
    out = run_backtest(PeriodicSignals(), market, p, [{"period": 10, "offset": 3, "sl_pct": 0.0, "tp_pct": 0.0}],
                       direction=-1)
    assert out.reason == "backtest:walkforward"
    assert out.wfa is not None and out.wfa.consistency == 0.0


def test_no_coin_is_no_data(market: FakeCandles) -> None:
    assert run_backtest(PeriodicSignals(), market, plan([]), grid(), 1).reason == "backtest:no_data"


def test_retest_reuses_fixed_parameters_and_is_cheap(market: FakeCandles) -> None:
    src = PeriodicSignals()
    p = plan([f"C{k}" for k in range(5)])
    good = run_retest(src, market, p, "1h", {"period": 10, "offset": 3, "sl_pct": 0.0, "tp_pct": 0.0}, 1)
    assert good.reason is None and good.best is not None and good.shuffle is None
    # one parameter set per coin, no search, plus the causality check's cut series
    assert src.sets_computed == 5 + 5 * p.causality_cuts
    assert good.trials == 2 * 5 + good.wfa.trials == 2 * 5 + 2 * 5 * 4
    sparse = run_retest(src, market, p, "1h", {"period": 1000, "offset": 999, "sl_pct": 0.0, "tp_pct": 0.0}, 1)
    assert sparse.reason == "backtest:too_few_trades"


def test_protocol_gates_of_a_passing_backtest_all_pass_with_their_figures(market: FakeCandles) -> None:
    from sixbtc.backtester.verdicts import PROTOCOL_GATES, protocol_gates

    p = plan([f"C{k}" for k in range(3)], wfa_windows=4)
    rows = protocol_gates(run_backtest(PeriodicSignals(), market, p, grid(), direction=1), p)
    assert [r.gate for r in rows] == [g for g, _ in PROTOCOL_GATES]
    assert [r.state for r in rows] == ["pass"] * 8 + ["off"]  # shuffle_permutations=0 in plan()
    assert rows[1].detail.startswith("1h: mean IS Sharpe") and "of 21 sets searched" in rows[1].detail
    assert rows[6].detail.startswith("100% of 4 folds profitable") and "excess" in rows[5].detail


def test_protocol_gates_name_the_stopping_gate_and_leave_the_later_ones_unreached(market: FakeCandles) -> None:
    from sixbtc.backtester.verdicts import protocol_gates

    p = plan([f"C{k}" for k in range(3)], max_degradation=1.0, wfa_min_consistency=0.5, min_excess_return=-10.0)
    out = run_backtest(PeriodicSignals(), market, p, [{"period": 10, "offset": 3, "sl_pct": 0.0, "tp_pct": 0.0}],
                       direction=-1)
    states = {r.gate: r.state for r in protocol_gates(out, p)}
    assert states["walkforward"] == "FAIL" and states["causality"] == "not reached"
    assert states["degradation"] == states["excess"] == "pass" and states["shuffle"] == "off"
    none = protocol_gates(run_backtest(PeriodicSignals(), market, plan([]), grid(), 1), plan([]))
    assert none[0].state == "FAIL" and {r.state for r in none[1:]} <= {"not reached", "off"}
