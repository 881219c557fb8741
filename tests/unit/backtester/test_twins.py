"""Twins (a strategy's own signals shifted in time) and the twin percentile."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sixbtc.backtester.coinset import CoinSeries, load_series
from sixbtc.backtester.twins import (
    draw_shifts,
    evaluate_window,
    portfolio_twins,
    shift_signals,
    shifts_in_bars,
    twin_percentile,
)

T0 = pd.Timestamp("2025-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)
N_BARS, WARMUP = 1200, 100
WINDOW = (T0 + WARMUP * HOUR, T0 + WARMUP * HOUR, T0 + N_BARS * HOUR)  # window = bars [100, 1200)
SPAN = N_BARS - WARMUP
NO_STOPS = {"sl_pct": 0.0, "tp_pct": 0.0}


def candles(seed: int, edge: float = 0.0, scale: float = 100.0) -> pd.DataFrame:
    """1h random walk; ``volume`` 2.0 marks a bar followed by a ``+edge`` bar, 1.0 elsewhere."""
    rng = np.random.default_rng(seed)
    ret = rng.normal(0.0, 0.005, N_BARS)
    marked = rng.random(N_BARS) < 0.03
    marked[-1] = False
    ret[1:][marked[:-1]] += edge
    close = scale * np.cumprod(1.0 + ret)
    open_ = np.concatenate(([scale], close[:-1]))
    return pd.DataFrame({"timestamp": T0 + HOUR * np.arange(N_BARS), "open": open_,
                         "high": np.maximum(open_, close) * 1.001, "low": np.minimum(open_, close) * 0.999,
                         "close": close, "volume": np.where(marked, 2.0, 1.0)})


class Store:
    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        self.frames = frames

    def read_candles(self, symbol: str, timeframe: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        df = self.frames[symbol]
        return df[(df["timestamp"] >= start) & (df["timestamp"] < end)]

    def read_funding(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        return pd.DataFrame({"timestamp": pd.DatetimeIndex([], tz="UTC"), "rate": np.zeros(0)})


class MarkerRule:
    """Enter on a marked bar (volume > 1.5, causal: the bar's own volume), exit one bar later."""

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        entries = np.stack([data["volume"] > 1.5 for _ in params_list])
        exits = np.roll(entries, 1, axis=1)
        exits[:, 0] = False
        return entries, exits


class RandomRule:
    """Entries at random (seeded by the parameters), independent of prices; exit 3 bars later."""

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        n = len(data["close"])
        entries = np.stack([np.random.default_rng(p["seed"]).random(n) < 0.05 for p in params_list])
        exits = np.roll(entries, 3, axis=1)
        exits[:, :3] = False
        return entries, exits


def coins(source: Any, frames: dict[str, pd.DataFrame], params: dict[str, Any]) -> list[CoinSeries]:
    store = Store(frames)
    out = [load_series(store, source, sym, "1h", WINDOW, WARMUP, [params], 1, (0.00045, 2.0)) for sym in frames]
    assert all(s is not None for s in out)
    return out


def test_draw_shifts_are_distinct_in_range_and_seeded() -> None:
    k = draw_shifts(SPAN, 72, 200, seed=5)
    assert len(k) == 200 and len(set(k.tolist())) == 200
    assert k.min() >= 72 and k.max() <= SPAN - 72 and np.all(np.diff(k) > 0)
    assert np.array_equal(k, draw_shifts(SPAN, 72, 200, seed=5))
    assert not np.array_equal(k, draw_shifts(SPAN, 72, 200, seed=6))


def test_draw_shifts_uses_every_admissible_shift_when_few_and_refuses_none() -> None:
    assert draw_shifts(10, 3, 200).tolist() == [3, 4, 5, 6, 7]
    with pytest.raises(ValueError, match="admits no circular shift"):
        draw_shifts(5, 3, 200)


def test_shifts_in_bars_is_the_same_time_on_each_grid() -> None:
    four_h, one_h, fifteen = 4 * 3_600_000, 3_600_000, 900_000
    assert shifts_in_bars(np.array([1, 18]), four_h, one_h).tolist() == [4, 72]
    assert shifts_in_bars(np.array([1, 18]), four_h, fifteen).tolist() == [16, 288]
    with pytest.raises(ValueError, match="not a positive multiple"):
        shifts_in_bars(np.array([1]), one_h, four_h)


def test_shift_signals_rotates_the_window_only_and_keeps_counts() -> None:
    rng = np.random.default_rng(1)
    sig = rng.random(50) < 0.3
    out = shift_signals(sig, 10, np.array([0, 1, 7, 39]))
    assert out.shape == (50, 4) and out.flags.f_contiguous
    assert np.array_equal(out[:10], np.repeat(sig[:10, None], 4, axis=1))  # warm-up untouched
    for col, k in enumerate([0, 1, 7, 39]):
        assert np.array_equal(out[10:, col], np.roll(sig[10:], k))
        assert out[10:, col].sum() == sig[10:].sum()
    with pytest.raises(ValueError, match="shifts must be in"):
        shift_signals(sig, 10, np.array([40]))


def test_twin_percentile_mid_rank() -> None:
    twins = np.array([0.0, 1.0, 2.0, 3.0])
    assert twin_percentile(10.0, twins) == 100.0
    assert twin_percentile(-1.0, twins) == 0.0
    assert twin_percentile(2.0, twins) == pytest.approx(62.5)  # 2 lower + half of 1 tie
    assert twin_percentile(0.0, np.zeros(200)) == 50.0  # nothing traded: no information
    assert np.isnan(twin_percentile(float("nan"), twins))


def test_planted_edge_lands_at_a_high_percentile() -> None:
    frames = {f"C{k}": candles(seed=10 + k, edge=0.01) for k in range(3)}
    res = evaluate_window(coins(MarkerRule(), frames, NO_STOPS), 0, draw_shifts(SPAN, 72, 200, seed=1))
    assert res.total_return > 0.3
    assert res.percentile >= 99.0
    assert len(res.twin_returns) == 200 and np.median(res.twin_returns) < 0.0  # twins pay costs, catch nothing


def test_random_signals_land_near_the_middle_on_average() -> None:
    frames = {f"C{k}": candles(seed=100 + k) for k in range(2)}
    shifts = draw_shifts(SPAN, 72, 200, seed=2)
    pct = [evaluate_window(coins(RandomRule(), frames, dict(NO_STOPS, seed=s)), 0, shifts).percentile
           for s in range(60)]
    assert 40.0 <= np.mean(pct) <= 60.0  # null: uniform on [0, 100], sd of the mean ~3.7
    assert 0.03 <= np.mean(np.asarray(pct) < 25.0) <= 0.5  # spread, not stuck in the middle


def test_twins_keep_trade_counts() -> None:
    frames = {f"C{k}": candles(seed=30 + k) for k in range(2)}
    res = evaluate_window(coins(RandomRule(), frames, dict(NO_STOPS, seed=4)), 0, draw_shifts(SPAN, 72, 200, seed=3))
    # exits follow entries by 3 bars and stops are off: a twin loses a trade at most where a
    # shifted entry lands on the window's last bar (or an entry falls inside an open trade),
    # never gains one beyond the actual count plus such edge effects
    assert res.n_trades > 40
    assert np.all(np.abs(res.twin_trades - res.n_trades) <= 0.1 * res.n_trades)
    assert np.mean(res.twin_trades == res.n_trades) > 0.3


def test_same_shift_on_every_coin() -> None:
    base = candles(seed=7, edge=0.004)
    scaled = base.copy()
    for col in ("open", "high", "low", "close"):
        scaled[col] = base[col] * 1e-3  # same path at another price: same returns only at the same shift
    res = evaluate_window(coins(MarkerRule(), {"A": base, "B": scaled}, NO_STOPS), 0,
                          draw_shifts(SPAN, 72, 50, seed=4))
    assert res.twin_coin_returns.shape == (2, 50)
    assert np.allclose(res.twin_coin_returns[0], res.twin_coin_returns[1], rtol=1e-9, atol=1e-12)
    assert np.ptp(res.twin_coin_returns[0]) > 0.01  # the twins do differ from one another


def test_window_result_figures_and_shift_checks() -> None:
    cs = coins(MarkerRule(), {"A": candles(seed=8, edge=0.01)}, NO_STOPS)
    res = evaluate_window(cs, 0, draw_shifts(SPAN, 72, 20, seed=0))
    single = cs[0].single(0, cs[0].i_oos, cs[0].n_bars)
    assert res.total_return == pytest.approx(single.metrics.total_return, rel=1e-12)
    assert res.n_trades == len(single.trades)
    assert len(res.daily_returns) == 46 and res.sharpe > 0  # bars 100..1199: 20 h of day 4, then 45 days
    js = res.to_json()
    assert js["n_twins"] == 20 and js["n_trades"] == res.n_trades and js["symbols"] == ["A"]
    with pytest.raises(ValueError, match="A: shifts"):
        evaluate_window(cs, 0, np.array([SPAN]))


def test_portfolio_twins_pairs_twins_by_index() -> None:
    value, twins, pct = portfolio_twins(np.array([0.1, 0.3]), np.array([[0.0, 0.2, 0.4], [0.0, 0.1, 0.6]]))
    assert value == pytest.approx(0.2)
    assert np.allclose(twins, [0.0, 0.15, 0.5])
    assert pct == pytest.approx(100 * 2 / 3)
    with pytest.raises(ValueError, match="portfolio_twins"):
        portfolio_twins(np.array([0.1]), np.zeros((2, 3)))
