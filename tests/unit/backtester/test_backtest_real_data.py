"""run_grid vs run_single on real BTC perpetual 1h candles with SMA-crossover signals."""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.backtester import run_grid, run_single

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "binance_usdm"

pytestmark = pytest.mark.data

FAST_SLOW = [(10, 100), (20, 100), (50, 200), (10, 200), (24, 72), (5, 30)]
SL = [0.0, 0.01, 0.03]
TP = [np.nan, 0.02, 0.06]


@pytest.fixture(scope="module")
def btc():
    path = DATA / "BTC_1h.parquet"
    if not path.exists():
        pytest.skip(f"real market data not found at {path} (needs <repo>/../shared/data)")
    df = pd.read_parquet(path)
    funding_path = DATA / "BTC_funding.parquet"
    rate = np.zeros(len(df))
    if funding_path.exists():
        fr = pd.read_parquet(funding_path)
        by_time = pd.Series(fr["rate"].to_numpy(), index=fr["timestamp"])
        by_time = by_time[~by_time.index.duplicated()]
        rate = by_time.reindex(df["timestamp"]).fillna(0.0).to_numpy()
    cols = {k: df[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close")}
    return cols, rate


def _sma(x: np.ndarray, n: int) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    csum = np.cumsum(np.r_[0.0, x])
    out[n - 1:] = (csum[n:] - csum[:-n]) / n
    return out


def _crossovers(close: np.ndarray):
    """Entry/exit matrices (n_bars, n_params) in the order of product(FAST_SLOW, SL, TP)."""
    ent, ext, sl, tp = [], [], [], []
    for (fast, slow), s, t in itertools.product(FAST_SLOW, SL, TP):
        diff = _sma(close, fast) - _sma(close, slow)
        prev = np.r_[np.nan, diff[:-1]]
        ent.append((diff > 0) & (prev <= 0))
        ext.append((diff < 0) & (prev >= 0))
        sl.append(s)
        tp.append(t)
    return np.column_stack(ent), np.column_stack(ext), np.array(sl), np.array(tp)


def _numpy_metrics(res, init_cash, bars_per_year):
    """Recompute the documented metrics with plain numpy from trades and equity."""
    eq = np.r_[init_cash, res.equity]
    r = eq[1:] / eq[:-1] - 1.0
    down = math.sqrt(np.mean(np.minimum(r, 0.0) ** 2))
    pnl = res.trades["pnl_usd"]
    peak = np.maximum.accumulate(eq)
    return {
        "total_return": eq[-1] / init_cash - 1.0,
        "sharpe": r.mean() / r.std(ddof=1) * math.sqrt(bars_per_year),
        "sortino": min(r.mean() / down * math.sqrt(bars_per_year), 1e3),
        "max_drawdown": np.max(1.0 - eq / peak),
        "win_rate": np.mean(pnl > 0),
        "profit_factor": min(pnl[pnl > 0].sum() / -pnl[pnl <= 0].sum(), 1e3),
        "expectancy": res.trades["return_frac"].mean(),
        "exposure": res.trades["bars_held"].sum() / res.equity.shape[0],
        "avg_holding_bars": res.trades["bars_held"].mean(),
    }


@pytest.mark.parametrize(
    ("direction", "leverage", "window", "use_funding"),
    [(1, 2.0, slice(0, None), True), (-1, 1.0, slice(20_000, 44_000), False)],
)
def test_grid_matches_single_on_btc_1h(btc, direction, leverage, window, use_funding):
    cols, rate = btc
    n = cols["close"].shape[0]
    entries, exits, sl, tp = _crossovers(cols["close"])
    kw = dict(direction=direction, leverage=leverage, start=window.start,
              end=window.stop if window.stop is not None else n,
              funding_rate=rate if use_funding else None, max_bars_held=0)
    t0 = time.perf_counter()
    grid = run_grid(cols["open"], cols["high"], cols["low"], cols["close"], entries, exits,
                    sl, tp, **kw)
    elapsed = time.perf_counter() - t0
    print(f"run_grid: {grid.n_params} sets x {kw['end'] - kw['start']} bars in {elapsed:.3f}s")
    assert grid.n_params == len(FAST_SLOW) * len(SL) * len(TP)
    assert np.all(grid.n_trades > 10)
    for p in range(grid.n_params):
        single = run_single(cols["open"], cols["high"], cols["low"], cols["close"],
                            entries[:, p], exits[:, p], sl_pct=sl[p], tp_pct=tp[p], **kw)
        assert single.metrics == grid.metrics(p)
        if p % 7 == 0:
            expected = _numpy_metrics(single, 10_000.0, 8760.0)
            for name, value in expected.items():
                assert getattr(single.metrics, name) == pytest.approx(value, rel=1e-9), name
    if use_funding:
        assert np.any(single.trades["funding_usd"] != 0.0)
