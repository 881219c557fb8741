"""The sample set of the validator: one primary sample and extras that differ from it.

The empirical look-ahead tests run in full on the primary sample (the last
``validator.sample_bars`` 1h candles of BTC) and, with fewer cuts, on every extra
(:mod:`sixbtc.validator.pipeline`). Extras differ from the primary in coin, price scale,
volume scale, volatility, length and start date, so that code which reads the future only
when the data looks a certain way (issue 8) meets such data before the backtest does:

==============  ==========================================================================
extra           series (when the store has it; skipped otherwise)
==============  ==========================================================================
low price       the first of :data:`LOW_PRICE_COINS` on 1h: last 3,000 candles
early start     the primary coin on 1h: its *first* 2,000 candles (oldest date and price)
high vol        the first of :data:`HIGH_VOL_COINS` on 4h: last 2,000 candles
long            BTC (else ETH) on the shortest backtest timeframe: as many candles as the
                backtest loads there (``long_bars``), when at least 5,000
synthetic       :func:`sixbtc.validator.sample.synthetic_extras` (micro/mega price, long)
==============  ==========================================================================

Real extras end before ``end`` (the replay window's start), like the primary.
"""

from __future__ import annotations

import pandas as pd

from sixbtc.domain.timeframe import Timeframe
from sixbtc.strategy.contract import OHLCV_KEYS
from sixbtc.strategy.input_loader import load_market
from sixbtc.validator.ports import CandleReader
from sixbtc.validator.sample import NamedSample, synthetic_extras

LOW_PRICE_COINS = ("1000PEPE", "1000SHIB", "DOGE", "XRP", "ADA", "TRX", "XLM")
HIGH_VOL_COINS = ("SOL", "AVAX", "DOGE", "ETH", "XRP", "BTC")
#: Fewest candles an extra real sample needs (below this it is skipped).
MIN_EXTRA_BARS = 1500
#: Fewest candles of the "long" extra (shorter ones add nothing over the others).
MIN_LONG_BARS = 5000


def _frame(reader: CandleReader, symbol: str, tf: str, end: pd.Timestamp | None) -> pd.DataFrame | None:
    if symbol not in reader.symbols(tf):
        return None
    df = reader.read_candles(symbol, tf, None, end)
    return df if len(df) >= MIN_EXTRA_BARS else None


def _first(reader: CandleReader, coins: tuple[str, ...], tf: str, end: pd.Timestamp | None,
           skip: str = "") -> tuple[str, pd.DataFrame] | None:
    for sym in coins:
        if sym != skip and (df := _frame(reader, sym, tf, end)) is not None:
            return sym, df
    return None


def named_sample(df: pd.DataFrame, what: str, reader: CandleReader | None = None, symbol: str = "",
                 timeframe: str = "") -> NamedSample:
    """A candle frame (``timestamp`` + OHLCV, oldest first, non-empty) as a sample named
    ``"<what> (<n> bars from <first day>)"``, float64 arrays.

    With a ``reader`` that also reads funding (the candle store), the sample carries the
    raw sources of the extra strategy inputs on its bars (real clock, funding, BTC;
    :func:`sixbtc.strategy.input_loader.load_market`) for ``symbol``/``timeframe``.
    """
    first = pd.Timestamp(df["timestamp"].iloc[0])
    data = {k: df[k].to_numpy("float64") for k in OHLCV_KEYS}
    market = None
    if reader is not None and callable(getattr(reader, "read_funding", None)):
        end = pd.Timestamp(df["timestamp"].iloc[-1]) + pd.Timedelta(milliseconds=Timeframe.parse(timeframe).ms)
        market = load_market(reader, symbol, timeframe, first, end, ("funding", "open_interest", "btc"),  # type: ignore[arg-type]
                             frame=df.reset_index(drop=True))
    return NamedSample(f"{what} ({len(df)} bars from {first.strftime('%Y-%m-%d')})", data, market)


def backtest_span(warmup_bars: int, days: float, timeframes: list[str]) -> tuple[str, int]:
    """The shortest of ``timeframes`` and the bars a backtest loads there: ``warmup_bars`` +
    ``days`` (IS + OOS) of candles (the "long" extra's length).

    Raises
    ------
    ValueError
        For an unknown timeframe or an empty list.
    """
    shortest = min(timeframes, key=lambda t: Timeframe.parse(t).ms)
    return shortest, warmup_bars + int(days * 86_400_000 // Timeframe.parse(shortest).ms)


def store_extras(
    reader: CandleReader,
    *,
    end: pd.Timestamp | None,
    primary: str = "BTC",
    long_timeframe: str = "15m",
    long_bars: int = 0,
) -> list[NamedSample]:
    """The real extra samples available in ``reader`` (see the module table).

    Parameters
    ----------
    reader : CandleReader
    end : pandas.Timestamp or None
        Candles open before this instant only (UTC); None = all.
    primary : str
        The primary sample's coin (its first candles make the "early start" extra).
    long_timeframe : str
        Timeframe of the "long" extra (the shortest backtest timeframe).
    long_bars : int
        Candles of the "long" extra (the backtest's loaded span on ``long_timeframe``); it
        is skipped when fewer than :data:`MIN_LONG_BARS` are asked or stored.

    Returns
    -------
    list of NamedSample
        Zero to four samples, in the table's order.

    Raises
    ------
    DataError
        From the reader, for an unreadable series.
    """
    out: list[NamedSample] = []
    if (low := _first(reader, LOW_PRICE_COINS, "1h", end, skip=primary)) is not None:
        out.append(named_sample(low[1].tail(3000), f"{low[0]} 1h low price", reader, low[0], "1h"))
    if (early := _frame(reader, primary, "1h", end)) is not None:
        out.append(named_sample(early.head(2000), f"{primary} 1h early start", reader, primary, "1h"))
    if (vol := _first(reader, HIGH_VOL_COINS, "4h", end)) is not None:
        out.append(named_sample(vol[1].tail(2000), f"{vol[0]} 4h high volatility", reader, vol[0], "4h"))
    if long_bars >= MIN_LONG_BARS:
        long = _first(reader, ("BTC", "ETH"), long_timeframe, end)
        if long is not None and len(long[1]) >= MIN_LONG_BARS:
            out.append(named_sample(long[1].tail(long_bars), f"{long[0]} {long_timeframe} long", reader, long[0],
                                    long_timeframe))
    return out


def extra_samples(reader: CandleReader | None, **kw) -> list[NamedSample]:
    """Real extras from ``reader`` (None: none) followed by the synthetic extras.

    Keyword arguments are those of :func:`store_extras`.
    """
    real = store_extras(reader, **kw) if reader is not None else []
    return real + synthetic_extras()
