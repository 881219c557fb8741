"""Walk-forward across the whole stored history: a rule that only works in the recent regime
passes the window's folds but fails folds spread over the history."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sixbtc.backtester.plausibility import PlausibilityBounds
from sixbtc.backtester.protocol import BacktestPlan, run_backtest, run_retest
from sixbtc.backtester.walkforward import history_day_bounds

T0 = pd.Timestamp("2024-01-01", tz="UTC")
DAYS = 400
N = 24 * DAYS
CHANGE_DAY = 300  # before: the 05:00 bar falls 1 %; after: it rises 1 %


def regime(seed: int, start_day: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    i = np.arange(N)
    ret = rng.normal(0.0, 0.002, N)
    hour5 = i % 24 == 5
    ret[hour5 & (i // 24 < CHANGE_DAY)] -= 0.01
    ret[hour5 & (i // 24 >= CHANGE_DAY)] += 0.01
    close = 100.0 * np.cumprod(1.0 + ret)
    open_ = np.concatenate(([100.0], close[:-1]))
    df = pd.DataFrame({"timestamp": T0 + pd.Timedelta(hours=1) * i, "open": open_,
                       "high": np.maximum(open_, close) * 1.0005, "low": np.minimum(open_, close) / 1.0005,
                       "close": close, "volume": 1e6 + i % 24})
    return df.iloc[start_day * 24:].reset_index(drop=True)


class Candles:
    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        self.frames = frames

    def read_candles(self, symbol: str, timeframe: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        df, ts = self.frames[symbol], self.frames[symbol]["timestamp"]
        keep = ((ts >= start) if start is not None else True) & ((ts < end) if end is not None else True)
        return df[keep].reset_index(drop=True)

    def read_funding(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        return pd.DataFrame({"timestamp": pd.DatetimeIndex([], tz="UTC"), "rate": np.zeros(0)})


class Hour5Long:
    """Buys at the 04:00 bar's close, sells at the 05:00 close; the synthetic volume carries
    the bar's UTC hour (``1e6 + hour``), so the rule is causal wherever the series starts."""

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        hour = np.round(data["volume"] - 1e6).astype(int)
        return np.stack([hour == 4] * len(params_list)), np.stack([hour == 5] * len(params_list))


GRID = [{"sl_pct": 0.5, "tp_pct": 5.0}]


def _plan(span: str) -> BacktestPlan:
    oos_end = T0 + pd.Timedelta(days=DAYS)
    return BacktestPlan({"1h": ["AAA", "BBB"]}, oos_end - pd.Timedelta(days=180), oos_end - pd.Timedelta(days=60),
                        oos_end, 10, 0.0, 0.0, 5, 1.0, wfa_windows=4, wfa_min_consistency=0.6,
                        shuffle_permutations=0, min_excess_return=-100.0, wfa_span=span,
                        plausibility=PlausibilityBounds(max_sharpe=1e9, rate_sharpe=1e9))


def test_history_folds_catch_a_rule_that_only_fits_the_recent_regime() -> None:
    candles = Candles({"AAA": regime(1), "BBB": regime(2, start_day=20)})
    window = run_backtest(Hour5Long(), candles, _plan("window"), GRID, 1)
    assert window.reason is None, window.detail
    assert window.wfa.consistency >= 0.75 and len(window.wfa.folds) == 4
    history = run_backtest(Hour5Long(), candles, _plan("history"), GRID, 1)
    assert history.reason == "backtest:walkforward", history.detail
    assert len(history.wfa.folds) == 4 and history.wfa.consistency == 0.5  # the older regime's folds lose
    assert [f.test_return < 0 for f in history.wfa.folds] == [True, True, False, False]
    retest = run_retest(Hour5Long(), candles, _plan("history"), "1h", GRID[0], 1)
    assert retest.reason == "backtest:walkforward"


def test_history_day_bounds_end_at_the_oos_end_and_need_one_fold() -> None:
    assert history_day_bounds(0, 400, 120, 60) == [(40, 160, 220), (100, 220, 280), (160, 280, 340),
                                                   (220, 340, 400)]
    with pytest.raises(ValueError, match="no fold"):
        history_day_bounds(0, 150, 120, 60)
    assert replace(_plan("window"), wfa_span="history").wfa_span == "history"
