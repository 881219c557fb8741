"""The plausibility gate: out-of-sample results no real strategy produces (issue 8).

Some look-ahead cannot be seen by re-running the code on less data (a strategy that
memorised the future, state smuggled between calls, a disguise no test thought of), but its
results can: they are too good. The gate looks at the chosen set's pooled out-of-sample
results on the assigned timeframe and rejects as ``suspect:lookahead`` — before every other
gate, so the label wins over theirs, in the first backtest and the re-test, whatever the
multiple-testing gate says — when

1. the pooled OOS Sharpe ratio (mean over coins of the annualised per-bar Sharpe,
   :mod:`sixbtc.backtester.metrics`) exceeds ``max_sharpe`` (default 15), or
2. it exceeds ``rate_sharpe`` (default 10) **and** the profits are near-certain: a win rate
   of at least ``max_win_rate`` (97 %) over at least ``min_count`` (100) OOS trades, or at
   least ``max_bar_share`` (80 %) of at least ``min_count`` in-position OOS bars profitable.

Why these bounds (honest strategies must never trip them):

* Published track records: the diversified time-series momentum portfolio of 58 futures
  (the CTA archetype) earns a Sharpe ratio of about 1.4 gross, 1985-2009 (Moskowitz, Ooi &
  Pedersen, "Time series momentum", *J. Financial Economics* 104(2), 2012); Renaissance's
  Medallion fund, the best long record known, about 2 (1988-2018: mean annual gross return
  66.1 %, standard deviation 31.7 %; B. Cornell, "Medallion Fund: The Ultimate
  Counterexample?", *J. Portfolio Management* 46(4), 2020). A 60-day window is noisy (the
  standard error of an annualised Sharpe ratio over 60 days is about ``sqrt(365 / 60)`` ≈
  2.5), so the bounds sit far above those.
* Measured on the real data (``../shared/data/binance_usdm``, every 60-day window of every
  1h series, 2019-2026): the best buy-and-hold Sharpe of any coin is 9.1 (XRP), of BTC 8.0;
  honest dip-buyers with no stop and a 0.5-1 % target reach win rates of 100 % over 50-116
  trades and 91 % profitable bars, but Sharpe ratios of at most 6.5 (ZEC 4h) — a win rate
  or a bar share alone is not implausible, hence the Sharpe floor of rule 2. Honest high
  Sharpe ratios come from trend exposure, with about half the bars profitable.
* Honest code through the protocol: 80 generated strategies (seed 3, 10 coins, 1h/4h, the
  ``run --once`` windows) reach pooled OOS Sharpe ratios of at most 1.7, win rates (100+
  trades) of at most 47 % and bar shares of at most 59 %; none of the 500 random-entry
  strategies of ``tests/integration/test_random_strategies.py`` trips the gate.
* A next-bar peek on BTC/ETH/SOL/XRP 1h (IS 2025-05 to 2025-08, OOS 60 days, default
  costs) scores pooled OOS Sharpe ratios of 17 to 42 and win rates of 87-99.7 %.

The bounds assume OOS windows of about 60 days or more; shorter windows make Sharpe
ratios noisier, so raise ``max_sharpe`` with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class PlausibilityBounds:
    """Thresholds of the plausibility gate (``backtest.plausible_*``; see the module notes).

    Attributes
    ----------
    max_sharpe : float
        Pooled OOS Sharpe above this is implausible (annualised, > 0).
    rate_sharpe : float
        Pooled OOS Sharpe above which near-certain profits are implausible (> 0).
    max_win_rate : float
        Win rate (fraction of OOS trades with a profit) counted as near-certain, (0, 1].
    max_bar_share : float
        Share of in-position OOS bars with a profit counted as near-certain, (0, 1].
    min_count : int
        Trades (or in-position bars) the two shares need (>= 1).

    Raises
    ------
    ValueError
        If a bound is out of range.
    """

    max_sharpe: float = 15.0
    rate_sharpe: float = 10.0
    max_win_rate: float = 0.97
    max_bar_share: float = 0.8
    min_count: int = 100

    def __post_init__(self) -> None:
        if not (self.max_sharpe > 0 and self.rate_sharpe > 0 and 0 < self.max_win_rate <= 1
                and 0 < self.max_bar_share <= 1 and self.min_count >= 1):
            raise ValueError(f"plausibility bounds out of range: {self}")

    @classmethod
    def from_section(cls, bt: Any) -> PlausibilityBounds:
        """From the ``backtest`` settings section (``plausible_*`` keys)."""
        return cls(bt.plausible_max_sharpe, bt.plausible_rate_sharpe, bt.plausible_max_win_rate,
                   bt.plausible_max_bar_share, bt.plausible_min_count)


@dataclass(frozen=True)
class Plausibility:
    """The figures the gate looked at and its verdict.

    Attributes
    ----------
    sharpe : float
        Pooled OOS Sharpe (coin mean).
    win_rate : float
        Profitable OOS trades / OOS trades over all coins (0 without trades).
    n_trades : int
    bar_share : float
        Profitable in-position OOS bars / in-position OOS bars over all coins (an
        in-position bar is one whose marked equity changed; 0 without any).
    n_bars : int
        In-position OOS bars.
    suspect : str or None
        The rule that tripped, with the figures; ``None`` when plausible.
    """

    sharpe: float
    win_rate: float
    n_trades: int
    bar_share: float
    n_bars: int
    suspect: str | None


def bar_returns(equity: np.ndarray) -> np.ndarray:
    """Per-bar returns of an equity curve, float64 ``(len(equity) - 1,)`` (0 where flat)."""
    eq = np.asarray(equity, dtype=np.float64)
    return np.diff(eq) / np.where(eq[:-1] != 0, eq[:-1], 1.0)


def assess(sharpe: float, trade_returns: list[np.ndarray], equities: list[np.ndarray],
           bounds: PlausibilityBounds) -> Plausibility:
    """Apply the gate's rules to pooled OOS results.

    Parameters
    ----------
    sharpe : float
        Pooled OOS Sharpe ratio (mean over coins).
    trade_returns : list of numpy.ndarray
        Per coin, the OOS trades' net returns (fractions), float64 ``(n_trades_coin,)``.
    equities : list of numpy.ndarray
        Per coin, the OOS equity marked at each bar's close, float64 ``(n_oos_bars,)``.
    bounds : PlausibilityBounds

    Returns
    -------
    Plausibility
        ``suspect`` names the first rule that tripped and every figure.
    """
    trades = np.concatenate([np.asarray(t, dtype=np.float64) for t in trade_returns] or [np.empty(0)])
    bars = np.concatenate([bar_returns(e) for e in equities] or [np.empty(0)])
    bars = bars[bars != 0]
    win = float(np.mean(trades > 0)) if len(trades) else 0.0
    share = float(np.mean(bars > 0)) if len(bars) else 0.0
    sharpe = float(np.nan_to_num(sharpe))
    figures = (f"pooled OOS Sharpe {sharpe:.2f}, win rate {win:.1%} over {len(trades)} trades, "
               f"{share:.1%} of {len(bars)} in-position bars profitable")
    b = bounds
    suspect = None
    if sharpe > b.max_sharpe:
        suspect = f"{figures}: Sharpe above {b.max_sharpe:g}"
    elif sharpe > b.rate_sharpe and len(trades) >= b.min_count and win >= b.max_win_rate:
        suspect = f"{figures}: Sharpe above {b.rate_sharpe:g} with a win rate >= {b.max_win_rate:.0%}"
    elif sharpe > b.rate_sharpe and len(bars) >= b.min_count and share >= b.max_bar_share:
        suspect = f"{figures}: Sharpe above {b.rate_sharpe:g} with >= {b.max_bar_share:.0%} of bars profitable"
    return Plausibility(sharpe, win, len(trades), share, len(bars), suspect)
