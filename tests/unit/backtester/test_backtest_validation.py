"""Bad inputs to run_grid / run_single raise ValueError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.backtester import bars_per_year, run_grid, run_single
from sixbtc.domain.timeframe import Timeframe
from sixbtc.domain.trading import Direction

N = 8


def _good():
    o = np.linspace(100.0, 107.0, N)
    c = o + 0.5
    return {
        "open_": o, "high": c + 1.0, "low": o - 1.0, "close": c,
        "entries": np.zeros(N, dtype=bool), "exits": np.zeros(N, dtype=bool),
    }


def _grid(**over):
    kw = _good()
    sl = over.pop("sl_pct", [0.01])
    tp = over.pop("tp_pct", [0.02])
    kw.update(over)
    kw.setdefault("direction", 1)
    return run_grid(kw.pop("open_"), kw.pop("high"), kw.pop("low"), kw.pop("close"),
                    kw.pop("entries"), kw.pop("exits"), sl, tp, **kw)


def test_good_inputs_run_and_direction_enum_accepted():
    g = _grid(direction=Direction.SHORT)
    assert g.n_params == 1 and g.n_trades[0] == 0


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"open_": np.arange(N)}, "open_ must be a 1-D float64"),
        ({"high": np.ones(N - 1)}, "high has 7 bars"),
        ({"close": np.ones((N, 1))}, "close must be a 1-D float64"),
        ({"low": [1.0] * N}, "low must be a 1-D float64"),
        ({"entries": np.zeros(N, dtype=np.int8)}, "entries must be a bool"),
        ({"exits": np.zeros(N - 2, dtype=bool)}, "exits has 6 bars"),
        ({"entries": np.zeros((N, 3), dtype=bool), "sl_pct": [0.1, 0.2]}, "n_params mismatch"),
        ({"sl_pct": [0.01, 0.02], "tp_pct": [0.01, 0.02, 0.03]}, "n_params mismatch"),
        ({"sl_pct": [-0.01]}, "sl_pct must be >= 0"),
        ({"tp_pct": ["x"]}, "tp_pct must be numbers"),
        ({"tp_pct": np.zeros((2, 2))}, "tp_pct must have shape"),
        ({"direction": 0}, "direction must be"),
        ({"direction": "long"}, "direction must be"),
        ({"fee_rate": -0.001}, "fee_rate must be in"),
        ({"slippage_bps": float("nan")}, "slippage_bps must be in"),
        ({"position_frac": 0.0}, "position_frac must be in"),
        ({"position_frac": 1.5}, "position_frac must be in"),
        ({"leverage": 0.5}, "leverage must be in"),
        ({"leverage": 500.0}, "leverage must be in"),
        ({"init_cash": 0.0}, "init_cash must be in"),
        ({"max_bars_held": -1}, "max_bars_held must be"),
        ({"max_bars_held": 2.5}, "max_bars_held must be"),
        ({"funding_rate": np.zeros(N - 1)}, "funding_rate has 7 bars"),
        ({"funding_rate": np.full(N, np.nan)}, "funding_rate has NaN"),
        ({"start": -1}, "start/end must satisfy"),
        ({"start": 5, "end": 5}, "start/end must satisfy"),
        ({"end": N + 1}, "start/end must satisfy"),
        ({"start": 1.0}, "start must be an int"),
        ({"bars_per_year": 0.0}, "bars_per_year must be in"),
        ({"sizing": "kelly"}, "sizing must be one of"),
        ({"sizing": "fixed_notional"}, "needs notional_usd"),
        ({"sizing": "fixed_notional", "notional_usd": 0.0}, "notional_usd must be in"),
        ({"sizing": "fixed_notional", "notional_usd": 1e3, "position_frac": 0.5},
         "position_frac applies only"),
        ({"notional_usd": 1e3}, "notional_usd applies only to sizing='fixed_notional'"),
        ({"sizing": "risk"}, "needs risk_per_trade"),
        ({"sizing": "risk", "risk_per_trade": 1.5}, "risk_per_trade must be in"),
        ({"sizing": "fixed_notional", "notional_usd": 1e3, "risk_per_trade": 0.01},
         "risk_per_trade applies only to sizing='risk'"),
        ({"sizing": "risk", "risk_per_trade": 0.01, "sl_pct": [0.01, 0.0]},
         "sizing='risk' needs every sl_pct > 0"),
        ({"sizing": "risk", "risk_per_trade": 0.01, "sl_pct": [np.nan]},
         "sizing='risk' needs every sl_pct > 0"),
    ],
)
def test_bad_argument_raises_naming_it(override, match):
    with pytest.raises(ValueError, match=match):
        _grid(**override)


def test_nan_price_inside_window_raises_with_bar_index_but_outside_is_ignored():
    kw = _good()
    kw["close"] = kw["close"].copy()
    kw["close"][6] = np.nan
    kw["high"] = kw["high"].copy()
    kw["high"][6] = np.nan
    with pytest.raises(ValueError, match="high has a NaN/inf price at bar 6"):
        _grid(**kw)
    assert _grid(**kw, end=6).n_params == 1  # bars at/after `end` are never read


def test_inconsistent_high_low_and_non_positive_price_raise():
    kw = _good()
    kw["high"] = kw["close"] - 0.1
    with pytest.raises(ValueError, match="high/low inconsistent .* bar 0"):
        _grid(**kw)
    kw = _good()
    kw["low"] = kw["low"] - 200.0
    with pytest.raises(ValueError, match="low has a non-positive price"):
        _grid(**kw)


def test_run_single_rejects_multi_column_signals_and_vector_levels():
    kw = _good()
    with pytest.raises(ValueError, match="entries must have one column"):
        run_single(kw["open_"], kw["high"], kw["low"], kw["close"],
                   np.zeros((N, 2), dtype=bool), kw["exits"], sl_pct=0.01, tp_pct=0.02,
                   direction=1)
    with pytest.raises(ValueError, match="sl_pct must be a scalar"):
        run_single(kw["open_"], kw["high"], kw["low"], kw["close"], kw["entries"],
                   kw["exits"], sl_pct=[0.01, 0.02], tp_pct=0.02, direction=1)
    res = run_single(kw["open_"], kw["high"], kw["low"], kw["close"], kw["entries"],
                     kw["exits"], sl_pct=None, tp_pct=0.0, direction=-1)
    assert res.equity.shape == (N,)


def test_bars_per_year():
    assert bars_per_year(Timeframe.H1.ms) == 8760.0
    assert bars_per_year(Timeframe.M15.ms) == 8760.0 * 4
    with pytest.raises(ValueError, match="timeframe_ms must be > 0"):
        bars_per_year(0)
    with pytest.raises(ValueError, match="timeframe_ms must be a number"):
        bars_per_year("1h")


def test_grid_result_metrics_index_checked():
    g = _grid(sl_pct=[0.01, 0.02], tp_pct=[0.02, 0.03])
    assert g.metrics(-1).n_trades == 0
    with pytest.raises(IndexError, match="out of range for 2"):
        g.metrics(2)
