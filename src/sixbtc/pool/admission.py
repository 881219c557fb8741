"""What a strategy brings into the pool besides its score: its behaviour fingerprint (one of
two sources that trade identically is kept) and the coins it will trade when LIVE."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

#: Coins a strategy trades when LIVE, at most.
LIVE_COINS = 5


def behaviour_fingerprint(timeframe: str, oos: Mapping[str, float]) -> str:
    """Hash of what a strategy *did* out of sample (timeframe, trade count, return, Sharpe).

    Two sources that differ as code but trade identically (same rule, same chosen parameters)
    get the same fingerprint; the pool keeps only the first of them.

    Parameters
    ----------
    timeframe : str
        The assigned timeframe, e.g. ``"1h"``.
    oos : mapping
        Pooled out-of-sample metrics with ``n_trades``, ``total_return`` (fraction) and
        ``sharpe`` (annualised).

    Returns
    -------
    str
        16 hexadecimal characters (the start of a SHA-256).
    """
    key = f"{timeframe}|{oos['n_trades']:.0f}|{oos['total_return']:.10f}|{oos['sharpe']:.8f}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def live_symbols(coins: Sequence[tuple[str, float, float, float]], limit: int = LIVE_COINS) -> list[str]:
    """The coins a strategy trades when LIVE.

    Parameters
    ----------
    coins : sequence of (symbol, oos_sharpe, oos_total_return, is_sharpe)
        Per-coin results of the assigned timeframe (returns as fractions).
    limit : int
        At most this many coins.

    Returns
    -------
    list of str
        The coins profitable out of sample, best OOS Sharpe first; when none is, the best
        in-sample Sharpe ratios (a strategy in the pool always trades something).
    """
    by_oos = sorted(coins, key=lambda c: c[1], reverse=True)
    profitable = [c[0] for c in by_oos if c[2] > 0][:limit]
    return profitable or [c[0] for c in sorted(coins, key=lambda c: c[3], reverse=True)][:limit]
