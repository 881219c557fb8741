"""Excess over the directional benchmark: an always-short strategy in a falling market makes
money but nothing over short-and-hold; a short that times planted drops has a real excess; the
hold is matched to the position size; the degradation gate on the excess keeps a timing edge
when the market turns and refuses a drift rider."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sixbtc.backtester.benchmark import excess_over_hold, hold_daily
from sixbtc.backtester.degradation import degradation_figures, sharpe_degradation
from sixbtc.backtester.plausibility import PlausibilityBounds
from sixbtc.backtester.protocol import BacktestPlan, aggregate_oos, run_backtest
from sixbtc.backtester.sizeable import size_fraction
from sixbtc.domain.sizing import SizingRule

T0 = pd.Timestamp("2025-01-01", tz="UTC")
N = 24 * 90


def falling(seed: int, drop_every: int = 0) -> pd.DataFrame:
    """1h candles drifting down ~-0.05 %/bar (a crash regime); ``drop_every`` plants a -1 % bar."""
    rng = np.random.default_rng(seed)
    ret = rng.normal(-0.0005, 0.003, N)
    if drop_every:
        ret[np.arange(N) % drop_every == 5] -= 0.01
    close = 100.0 * np.cumprod(1.0 + ret)
    open_ = np.concatenate(([100.0], close[:-1]))
    return pd.DataFrame({"timestamp": T0 + pd.Timedelta(hours=1) * np.arange(N), "open": open_,
                         "high": np.maximum(open_, close) * 1.0005, "low": np.minimum(open_, close) / 1.0005,
                         "close": close, "volume": np.full(N, 1e6)})


class Candles:
    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        self.frames = frames

    def read_candles(self, symbol: str, timeframe: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        df = self.frames[symbol]
        return df[(df["timestamp"] >= start) & (df["timestamp"] < end)].reset_index(drop=True)

    def read_funding(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        return pd.DataFrame({"timestamp": pd.DatetimeIndex([], tz="UTC"), "rate": np.zeros(0)})


class AlwaysShort:
    """Enters on every bar and never exits on a signal: short and hold."""

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        n = len(data["close"])
        return np.ones((len(params_list), n), dtype=bool), np.zeros((len(params_list), n), dtype=bool)


class TimedShort:
    """Shorts the bar before every planted drop and covers after it."""

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        i = np.arange(len(data["close"])) + 14  # the loaded span starts at 14:00 UTC (day 5 - 10 warm-up bars)
        return np.stack([i % 24 == 4] * len(params_list)), np.stack([i % 24 == 5] * len(params_list))


def _plan(min_excess: float = 0.0, basis: str = "excess") -> BacktestPlan:
    return BacktestPlan({"1h": ["AAA", "BBB"]}, T0 + pd.Timedelta(days=5), T0 + pd.Timedelta(days=50),
                        T0 + pd.Timedelta(days=90), 10, 0.00045, 2.0, 1, 1.0, wfa_windows=0,
                        shuffle_permutations=0, min_excess_return=min_excess, degradation_basis=basis,
                        plausibility=PlausibilityBounds(max_sharpe=1e9, rate_sharpe=1e9))  # synthetic: too clean


GRID = [{"sl_pct": 0.9, "tp_pct": 9.0}]


def test_always_short_in_a_falling_market_earns_but_has_no_excess() -> None:
    candles = Candles({"AAA": falling(1), "BBB": falling(2)})
    # the excess-based degradation gate already stops it: its in-sample Sharpe is the drift's
    early = run_backtest(AlwaysShort(), candles, _plan(), GRID, -1)
    assert early.reason == "backtest:degradation", early.detail
    assert "IS excess Sharpe" in early.detail and early.degradation["degradation"] > 1.0
    out = run_backtest(AlwaysShort(), candles, _plan(basis="return"), GRID, -1)
    assert out.excess is not None
    assert out.excess["benchmark_return"] > 0.2  # short-and-hold made money: a crash
    assert out.excess["exposure"] > 0.95
    assert abs(out.excess["excess_return"]) < 0.01  # the strategy is the hold (minus costs)
    assert out.reason == "backtest:excess"
    assert "holding its direction" in out.detail
    opened = run_backtest(AlwaysShort(), candles, _plan(min_excess=-100.0, basis="return"), GRID, -1)
    assert opened.reason is None


def test_a_short_that_times_the_drops_has_a_positive_excess() -> None:
    candles = Candles({"AAA": falling(1, 24), "BBB": falling(2, 24)})
    out = run_backtest(TimedShort(), candles, _plan(), GRID, -1)
    assert out.reason is None, out.detail
    assert out.excess["excess_return"] > 0.1
    assert out.excess["excess_sharpe"] > 1.0


def flipping(seed: int, drift: float = 0.0005, planted: float = 0.01, turn_day: int = 50) -> pd.DataFrame:
    """1h candles drifting up ``drift``/bar until ``turn_day`` (50: the end of the in-sample
    window) and down as much after, with a planted ``planted`` rise at 05:00 UTC every day."""
    rng = np.random.default_rng(seed)
    hours = np.arange(N)
    ret = rng.normal(0.0, 0.003, N) + np.where(hours < 24 * turn_day, drift, -drift)
    ret[hours % 24 == 5] += planted
    close = 100.0 * np.cumprod(1.0 + ret)
    open_ = np.concatenate(([100.0], close[:-1]))
    return pd.DataFrame({"timestamp": T0 + pd.Timedelta(hours=1) * hours, "open": open_,
                         "high": np.maximum(open_, close) * 1.0005, "low": np.minimum(open_, close) / 1.0005,
                         "close": close, "volume": np.full(N, 1e6)})


class NightLong:
    """Long from 17:00 to 06:00 UTC (13 of 24 bars, across the planted 05:00 rise)."""

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        i = np.arange(len(data["close"])) + 14  # hour of day, as TimedShort
        return np.stack([i % 24 == 16] * len(params_list)), np.stack([i % 24 == 5] * len(params_list))


def _flip_plan(basis: str, sizing: SizingRule | None = None) -> BacktestPlan:
    return replace(_plan(basis=basis), max_degradation=0.6, sizing=sizing)


def test_a_timing_edge_keeps_its_excess_sharpe_when_the_market_turns() -> None:
    """IS a bull, OOS a crash: the long's own Sharpe drops with the drift, its edge over the
    matched hold does not; the excess-based gate keeps it, the return-based one refuses it."""
    candles = Candles({"AAA": flipping(1), "BBB": flipping(2)})
    raw = run_backtest(NightLong(), candles, _flip_plan("return"), GRID, 1)
    assert raw.reason == "backtest:degradation", raw.detail
    assert raw.degradation["basis"] == "return" and raw.degradation["degradation"] > 0.6
    balanced = run_backtest(NightLong(), candles, _flip_plan("excess"), GRID, 1)
    assert balanced.reason is None, balanced.detail
    d = balanced.degradation
    assert d["basis"] == "excess" and d["is_sharpe"] > 3.0 and abs(d["degradation"]) < 0.3
    assert d["oos_sharpe"] == balanced.excess["excess_sharpe"]
    # without the planted rise there is no timing edge: nothing in sample to keep
    flat = run_backtest(NightLong(), Candles({"AAA": flipping(1, planted=0.0), "BBB": flipping(2, planted=0.0)}),
                        _flip_plan("excess"), GRID, 1)
    assert flat.reason == "backtest:degradation", flat.detail


def test_the_hold_is_matched_to_the_position_size() -> None:
    """Risk sizing trades ``risk_per_trade / sl_pct`` of equity (0.01 / 0.05 = 0.2): an always-long
    strategy in a rising market earns about a fifth of buy-and-hold, which is no excess over
    the hold at that size (compared with the full 1x hold it would look like a large loss)."""
    rising = Candles({k: flipping(seed, drift=0.0003, planted=0.0, turn_day=90) for k, seed in (("AAA", 1), ("BBB", 2))})
    rule = SizingRule("risk", 0.01, 5.0)
    out = run_backtest(AlwaysShort(), rising, replace(_plan(basis="return"), sizing=rule),
                       [{"sl_pct": 0.05, "tp_pct": 9.0}], 1)
    x = out.excess
    assert x is not None and x["size"] == pytest.approx(0.2)
    assert x["benchmark_return"] > 0.2
    assert abs(x["excess_return"]) < 0.02  # the strategy is a fifth of the hold, minus costs
    assert aggregate_oos(out.best)["total_return"] < x["benchmark_return"] - 0.2  # far below the 1x hold


def test_size_fraction_follows_the_sizing_rule() -> None:
    rule = SizingRule("risk", 0.01, 5.0)
    assert size_fraction(rule, {"sl_pct": 0.02}) == pytest.approx(0.5)
    assert size_fraction(rule, {"sl_pct": 0.005}) == pytest.approx(2.0)
    assert size_fraction(rule, {"sl_pct": 0.001}) == pytest.approx(5.0)  # the leverage cap
    assert size_fraction(rule, {"sl_pct": 0.02}, levels=True) == 1.0  # grids trade all-in
    assert size_fraction(None, {"sl_pct": 0.02}) == size_fraction(SizingRule("equity"), {"sl_pct": 0.0}) == 1.0
    with pytest.raises(ValueError, match="sl_pct"):
        size_fraction(rule, {"sl_pct": 0.0})
    with pytest.raises(ValueError, match="degradation_basis"):
        degradation_figures("sharpe", (np.zeros(2), np.arange(2), 1), (1.0, 1.0), 1.0, [], 0.5, 1.0)
    assert sharpe_degradation(2.0, 0.5) == pytest.approx(0.75) and sharpe_degradation(-1.0, 3.0) == 1.0


def test_hold_daily_long_and_short_and_exposure_matching() -> None:
    closes = np.array([101.0, 102.0, 99.0, 100.0])
    days = np.array([0, 0, 1, 1])
    long_r, d = hold_daily([100.0], [closes], [days], 1)
    assert d.tolist() == [0, 1]
    assert long_r == pytest.approx([0.02, 100.0 / 102.0 - 1.0])
    short_r, _ = hold_daily([100.0], [closes], [days], -1)
    assert short_r[0] == pytest.approx(-0.02)
    assert short_r[1] == pytest.approx((2.0 - 1.0) / (2.0 - 1.02) - 1.0)  # one short held: 0.98 -> 1.00 of capital
    assert np.prod(1 + short_r) - 1 == pytest.approx(0.0)  # back at the start price: flat
    half = excess_over_hold(0.5 * long_r, d, long_r, d, 0.5)
    assert half["excess_return"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="direction"):
        hold_daily([100.0], [closes], [days], 0)
    with pytest.raises(ValueError, match="exposure"):
        excess_over_hold(long_r, d, long_r, d, 1.5)
    assert excess_over_hold(0.25 * long_r, d, long_r, d, 0.5, size=0.5)["excess_return"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="size"):
        excess_over_hold(long_r, d, long_r, d, 0.5, size=0.0)


def test_confirmation_ranks_timing_among_twins() -> None:
    from sixbtc.backtester.confirmation import confirm
    window = (T0 + pd.Timedelta(days=60), T0 + pd.Timedelta(days=90))
    kw = dict(warmup_bars=10, costs=(0.00045, 2.0), n_twins=40, seed=3)
    timed = confirm(TimedShort(), Candles({"AAA": falling(1, 24), "BBB": falling(2, 24)}), ["AAA", "BBB"], "1h",
                    GRID[0], -1, window, **kw)
    assert timed is not None and timed.total_return > 0 and len(timed.shifts) == 40
    assert timed.percentile > 90  # shifted off the drops, the twins lose
    # hold-like signals shifted in time are the same signals: no timing, mid-rank
    held = confirm(AlwaysShort(), Candles({"AAA": falling(1), "BBB": falling(2)}), ["AAA", "BBB"], "1h",
                   GRID[0], -1, window, **kw)
    assert held.total_return > 0 and held.percentile == 50.0
    assert confirm(AlwaysShort(), Candles({"AAA": falling(1)}), ["AAA"], "1h", GRID[0], -1, window,
                   **dict(kw, n_twins=0)).to_json()["twin_percentile"] is None
