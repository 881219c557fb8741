"""Cross-check of the engine against backtesting.py on real candles.

Same candles, same entry/exit arrays (SMA crossover, see ``conftest.py``); the trade lists
(count, entry and exit bar, entry and exit price, PnL) and the total return must agree.

Conventions and how both sides are configured the same way
-----------------------------------------------------------
* **Fill at the next open.** ``trade_on_close=False``: an order placed in ``next()`` on bar
  ``k`` fills at ``open[k + 1]``, as the engine does; trade bar indices are therefore equal.
  The strategy's ``next()`` reads the precomputed arrays: it buys (sells) when flat and
  ``entries[k] and not exits[k]``, and closes the position when ``exits[k]``. Signals start
  after the SMA warm-up, so backtesting.py not calling ``next()`` on bar 0 changes nothing.
* **Stops.** ``sl``/``tp`` are price levels given with the order; the strategy computes
  them from the fill price ``open[k + 1]`` (no slippage here), exactly the engine's levels.
  backtesting.py checks them on the entry bar too (it reprocesses the bracket orders after
  a market fill), fills a gap through a level at the open, and takes the stop first when
  both are touched in a bar, as the engine does.
* **Sizing.** backtesting.py trades whole units, so :class:`FractionalBacktest` trades units
  of 1e-8 coin and the strategy orders ``round(notional / open[k + 1] / 1e-8)`` units with
  ``notional = equity`` (the engine's default ``position_frac=1``) or a fixed ``notional``
  (``sizing="fixed_notional"``). The rounding moves PnL by at most ~1e-8 of the notional.
  The engine takes ``notional = equity`` and pays the fee on top (perpetual margin);
  backtesting.py would cancel that order for lack of cash, so it gets ``margin=0.5``
  (2x buying power, which changes nothing else for a 1x position).
* **Costs.** ``commission`` is a fraction of fill value per side, like ``fee_rate``. No
  slippage: backtesting.py's ``spread`` is charged on the entry fill only, while the
  engine slips both fills (the slippage convention is cross-checked against vectorbt).

Tolerances: bar indices and counts equal; prices within ``1e-9`` relative; PnL within
``1e-4`` USD per trade and total return within ``1e-6`` (absolute, fraction of the 10,000
USD start), both from the 1e-8 unit rounding.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sixbtc.backtester import run_single
from sixbtc.domain.trading import ExitReason

pytest.importorskip("backtesting", reason="backtesting.py (dev dependency) is not installed")

from backtesting import Strategy  # noqa: E402
from backtesting.lib import FractionalBacktest  # noqa: E402

pytestmark = pytest.mark.data

FEE = 0.00045  # 0.045 % per side
UNIT = 1e-8  # backtesting.py trades whole units of 1e-8 coin
NOTIONAL = 5_000.0

# (sl_pct, tp_pct, fee_rate, fixed notional in USD or None for all-in)
CASES = {
    "plain": (0.0, 0.0, 0.0, None),
    "fees": (0.0, 0.0, FEE, None),
    "stop": (0.02, 0.0, 0.0, None),
    "stop_target_fees": (0.01, 0.02, FEE, None),
    "stop_target_fees_fixed_notional": (0.015, 0.03, FEE, NOTIONAL),
}


def _strategy(c, direction, entries, exits, sl, tp, notional):
    """A backtesting.py Strategy replaying the precomputed signals (see module docstring)."""

    class Replay(Strategy):
        def init(self):
            pass

        def next(self):
            k = len(self.data) - 1
            if self.position:
                if exits[k]:
                    self.position.close()
                return
            if not entries[k] or exits[k] or k + 1 >= c.open.shape[0]:
                return
            fill = c.open[k + 1]
            usd = self.equity if notional is None else notional
            levels = {}
            if sl:
                levels["sl"] = fill * (1.0 - direction * sl) * UNIT
            if tp:
                levels["tp"] = fill * (1.0 + direction * tp) * UNIT
            order = self.buy if direction == 1 else self.sell
            order(size=round(usd / fill / UNIT), **levels)

    return Replay


def _run_backtesting_py(c, direction, entries, exits, sl, tp, fee, notional):
    import pandas as pd

    data = pd.DataFrame({"Open": c.open, "High": c.high, "Low": c.low, "Close": c.close,
                         "Volume": c.volume}, index=c.time.tz_localize(None))
    bt = FractionalBacktest(data, _strategy(c, direction, entries, exits, sl, tp, notional),
                            cash=10_000.0, commission=fee, margin=0.5, trade_on_close=False,
                            exclusive_orders=False, finalize_trades=True,
                            fractional_unit=UNIT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bt.run()


@pytest.mark.parametrize("direction", [1, -1], ids=["long", "short"])
@pytest.mark.parametrize("case", list(CASES))
def test_trades_and_total_return_match_backtesting_py(candles, direction, case):
    sl, tp, fee, notional = CASES[case]
    entries, exits = candles.crossover(direction)
    sizing = {"sizing": "fixed_notional", "notional_usd": notional} if notional else {}
    ours = run_single(candles.open, candles.high, candles.low, candles.close, entries, exits,
                      sl_pct=sl, tp_pct=tp, direction=direction, fee_rate=fee,
                      slippage_bps=0.0, **sizing)
    stats = _run_backtesting_py(candles, direction, entries, exits, sl, tp, fee, notional)
    theirs = stats["_trades"]
    t = ours.trades
    assert t.shape[0] > 20, "too few trades for a meaningful comparison"
    assert t.shape[0] == len(theirs)
    np.testing.assert_array_equal(t["entry_idx"], theirs["EntryBar"].to_numpy())
    np.testing.assert_array_equal(t["exit_idx"], theirs["ExitBar"].to_numpy())
    np.testing.assert_allclose(t["entry_price"], theirs["EntryPrice"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(t["exit_price"], theirs["ExitPrice"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(t["pnl_usd"], theirs["PnL"].to_numpy(), rtol=0, atol=1e-4)
    assert ours.metrics.total_return == pytest.approx(stats["Return [%]"] / 100.0, abs=1e-6)
    reasons = set(t["exit_reason"].tolist())
    if sl:
        assert ExitReason.STOP_LOSS in reasons, "the stop never fired: case tests nothing"
    if tp:
        assert ExitReason.TAKE_PROFIT in reasons, "the target never fired: case tests nothing"
