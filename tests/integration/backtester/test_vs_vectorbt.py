"""Cross-check of the engine against vectorbt ``Portfolio.from_signals`` on real candles.

Same candles, same entry/exit arrays (SMA crossover, see ``conftest.py``); the trade lists
(count, entry and exit bar, entry and exit price, PnL) and the total return must agree.

Conventions and how both sides are configured the same way
-----------------------------------------------------------
* **Fill at the next open.** The engine fills a signal of bar ``k`` at ``open[k + 1]``;
  vectorbt fills at the bar's close. vectorbt gets ``close_vbt[k] = open[k + 1]`` (the last
  bar keeps its close) and the unshifted signals, so its "fill at the close of bar ``k``" is
  the engine's fill at ``open[k + 1]``. Its bars keep the real ``open/high/low``; vectorbt
  checks stops from the bar after its order, which is then the engine's entry bar (the
  engine checks stops on the entry bar, after the open). A signal exit of the engine at
  bar ``k + 1`` is therefore vectorbt's exit at bar ``k``; stop/target exits share the bar.
* **Stops.** ``stop_entry_price="fillprice"`` (levels are fractions of the slipped entry
  fill, as in the engine), ``stop_exit_price="stopmarket"`` (the stop fill is slipped;
  a gap through the level fills at the open), ``upon_stop_exit="close"``; vectorbt checks
  the stop before the target, as the engine does.
* **Sizing.** With no fee, ``size=inf`` (all-in) equals the engine's default
  ``position_frac=1``: both buy ``qty = cash / fill``. With a fee, vectorbt's all-in buys
  ``cash / (1 + fee)`` of notional while the engine takes ``notional = equity`` and pays the
  fee on top (perpetual margin), so fee cases use the engine's ``sizing="fixed_notional"``
  and vectorbt ``size = notional / fill`` (``size_type="amount"``) on every bar.
* **Costs.** vectorbt ``fees`` and ``slippage`` are fractions applied per side exactly like
  the engine's ``fee_rate`` and ``slippage_bps / 1e4``.

Tolerances: bar indices and counts equal; prices, PnL and total return within ``1e-9``
relative (observed differences are float rounding, ~1e-15).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sixbtc.backtester import run_single
from sixbtc.domain.trading import ExitReason

vbt = pytest.importorskip("vectorbt", reason="vectorbt (dev dependency) is not installed")

pytestmark = pytest.mark.data

FEE = 0.00045  # 0.045 % per side (Hyperliquid taker)
SLIP = 2.0  # basis points
NOTIONAL = 5_000.0  # USD per trade in the fixed-notional cases
RTOL = 1e-9

# (sl_pct, tp_pct, fee_rate, slippage_bps, sizing)
CASES = {
    "plain": (0.0, 0.0, 0.0, 0.0, "equity_frac"),
    "slippage": (0.0, 0.0, 0.0, SLIP, "equity_frac"),
    "stop": (0.02, 0.0, 0.0, 0.0, "equity_frac"),
    "stop_target_slippage": (0.01, 0.02, 0.0, SLIP, "equity_frac"),
    "fees_slippage": (0.0, 0.0, FEE, SLIP, "fixed_notional"),
    "stop_target_fees_slippage": (0.015, 0.03, FEE, SLIP, "fixed_notional"),
}


def _run_vectorbt(c, direction, entries, exits, sl, tp, fee, slip_bps, sizing):
    close_vbt = np.r_[c.open[1:], c.close[-1]]  # bar k "closes" at the engine's fill price
    slip = slip_bps * 1e-4
    if sizing == "fixed_notional":
        size, size_type = NOTIONAL / (close_vbt * (1.0 + direction * slip)), "amount"
    else:
        size, size_type = np.inf, "amount"
    return vbt.Portfolio.from_signals(
        pd.Series(close_vbt, index=c.time), entries, exits, open=c.open, high=c.high,
        low=c.low, direction="longonly" if direction == 1 else "shortonly", size=size,
        size_type=size_type, fees=fee, slippage=slip, init_cash=10_000.0, accumulate=False,
        sl_stop=sl or np.nan, tp_stop=tp or np.nan, stop_entry_price="fillprice",
        stop_exit_price="stopmarket", upon_stop_exit="close", freq="1h")


@pytest.mark.parametrize("direction", [1, -1], ids=["long", "short"])
@pytest.mark.parametrize("case", list(CASES))
def test_trades_and_total_return_match_vectorbt(candles, direction, case):
    sl, tp, fee, slip, sizing = CASES[case]
    entries, exits = candles.crossover(direction)
    extra = {"notional_usd": NOTIONAL} if sizing == "fixed_notional" else {}
    ours = run_single(candles.open, candles.high, candles.low, candles.close, entries, exits,
                      sl_pct=sl, tp_pct=tp, direction=direction, fee_rate=fee,
                      slippage_bps=slip, sizing=sizing, **extra)
    pf = _run_vectorbt(candles, direction, entries, exits, sl, tp, fee, slip, sizing)
    theirs = pf.trades.records  # structured: entry_idx, exit_idx, entry_price, ...
    t = ours.trades
    assert t.shape[0] > 20, "too few trades for a meaningful comparison"
    assert t.shape[0] == theirs.shape[0]
    assert np.all(theirs["status"] == 1), "vectorbt left a trade open"
    at_open = np.isin(t["exit_reason"], [ExitReason.SIGNAL, ExitReason.TIME_LIMIT])
    np.testing.assert_array_equal(t["entry_idx"], theirs["entry_idx"] + 1)
    np.testing.assert_array_equal(t["exit_idx"], theirs["exit_idx"] + at_open)
    np.testing.assert_allclose(t["entry_price"], theirs["entry_price"], rtol=RTOL)
    np.testing.assert_allclose(t["exit_price"], theirs["exit_price"], rtol=RTOL)
    np.testing.assert_allclose(t["pnl_usd"], theirs["pnl"], rtol=RTOL, atol=1e-9)
    np.testing.assert_allclose(ours.metrics.total_return, pf.total_return(), rtol=RTOL,
                               atol=1e-12)
    reasons = set(t["exit_reason"].tolist())
    if sl:
        assert ExitReason.STOP_LOSS in reasons, "the stop never fired: case tests nothing"
    if tp:
        assert ExitReason.TAKE_PROFIT in reasons, "the target never fired: case tests nothing"
