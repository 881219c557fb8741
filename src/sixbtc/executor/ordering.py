"""When a candle may be handed to the executor: never behind a later one.

The executor processes closed candles in key order (close time, symbol, timeframe length;
:func:`~sixbtc.executor.ports.bar_key`) and skips decisions on a candle at or before a
strategy's resume point. A feed that polls several streams must therefore hold back a candle
while an earlier one may still arrive on another stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sixbtc.domain.timeframe import Timeframe


def hold_back_after(newest_open: Mapping[tuple[str, str], datetime], now: datetime) -> datetime | None:
    """Close time from which candles must wait for a lagging stream (None: nothing waits).

    The next candle of stream ``s`` closes at ``newest_open[s] + 2 × timeframe``; a candle
    closing at or after the earliest of those times could be followed by an earlier one. A
    stream whose next candle should have closed a whole bar before ``now`` is stalled (a
    delisted coin, a venue that stopped serving it) and holds nothing back: the candles it
    delivers late are then only checked against stops and targets.

    Parameters
    ----------
    newest_open : mapping
        (symbol, timeframe) → open time of its newest stored candle (aware, UTC).
    now : datetime
        The current time (aware, UTC).

    Returns
    -------
    datetime or None
        Candles closing at or after it wait; None when no stream is waited for.

    Raises
    ------
    ValueError
        For an unknown timeframe.
    """
    due = []
    for (_, tf), opened in newest_open.items():
        step = timedelta(milliseconds=Timeframe.parse(tf).ms)
        next_close = opened + 2 * step
        if next_close + step >= now:  # not stalled
            due.append(next_close)
    return min(due) if due else None
