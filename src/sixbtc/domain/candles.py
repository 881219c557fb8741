"""The candle frame contract shared by the store, the feeds and the backtester.

A candle frame is a ``pandas.DataFrame`` with columns :data:`OHLCV_COLUMNS`:
``timestamp`` (``datetime64[ns, UTC]``, the candle open time), then ``open high low close
volume`` (float64; prices in quote currency, volume in base units), sorted ascending with
unique timestamps on the timeframe grid. A funding frame has ``timestamp`` (settlement time)
and ``rate`` (fraction per interval, 0.0001 = 0.01 %).
"""

from __future__ import annotations

OHLCV_COLUMNS: tuple[str, ...] = ("timestamp", "open", "high", "low", "close", "volume")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
FUNDING_COLUMNS: tuple[str, ...] = ("timestamp", "rate")
