"""Market data from a ccxt venue (default Binance USDⓈ-M futures), translated at the edge.

Symbols are base assets (``"BTC"``); they map to ccxt's linear-perpetual notation
``"BTC/USDT:USDT"``. Vendor errors become :mod:`sixbtc.core.errors` classes:

* connection failure (DNS, refused, reset) -> ``NetworkUnavailable``,
* timeout, HTTP 429 / 418, 5xx / maintenance -> ``TransientExchangeError`` (after retries),
* unknown symbol or a malformed request -> ``DataError``.

Reads are retried with exponential back-off (``backoff_s * 2**attempt``, at most
``max_retries`` retries) on ``ccxt.NetworkError`` (which covers ``RateLimitExceeded``,
``DDoSProtection``, ``RequestTimeout`` and ``ExchangeNotAvailable``). A rate-limit answer
(HTTP 429 / 418) that carries a ``Retry-After`` header (RFC 9110 §10.2.3: delta-seconds or an
HTTP date) waits at least that long, at most :data:`MAX_RETRY_AFTER_S` (Binance: "a 429 ...
the Retry-After header indicates how many seconds to wait", USDⓈ-M API "General Info").

Pagination: an empty page, or a page holding nothing after the cursor (a repeated answer), is
asked once more before the series is taken as ending there, so a flaky page does not cut a
download short; short pages just move the cursor.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import ccxt
import pandas as pd

from sixbtc.adapters.exchanges.http_backoff import MAX_RETRY_AFTER_S, retry_after_s
from sixbtc.core.errors import DataError, NetworkUnavailable, TransientExchangeError
from sixbtc.domain.candles import FUNDING_COLUMNS, OHLCV_COLUMNS
from sixbtc.domain.timeframe import Timeframe

log = logging.getLogger(__name__)

T = TypeVar("T")
QUOTE = "USDT"
OHLCV_PAGE_LIMIT = 1500  # Binance futures klines maximum per request
FUNDING_PAGE_LIMIT = 1000  # Binance fundingRate maximum per request
EMPTY_PAGE_RETRIES = 1
"""Extra requests of a page that came back empty (or repeated) before pagination stops."""


def to_ccxt_symbol(symbol: str) -> str:
    """Map a base asset to ccxt's USDT linear perpetual symbol: ``"BTC"`` -> ``"BTC/USDT:USDT"``."""
    if not symbol or not symbol.isalnum():
        raise DataError(f"invalid symbol {symbol!r}: expected a base asset like 'BTC'")
    return f"{symbol.upper()}/{QUOTE}:{QUOTE}"


def from_ccxt_symbol(ccxt_symbol: str) -> str:
    """Map ``"BTC/USDT:USDT"`` back to ``"BTC"``; raise ``DataError`` for other shapes."""
    base, _, rest = ccxt_symbol.partition("/")
    if rest != f"{QUOTE}:{QUOTE}" or not base:
        raise DataError(f"{ccxt_symbol!r} is not a USDT linear perpetual symbol")
    return base


def point_at(exchange: Any, api_url: str) -> None:
    """Point a ccxt client's public REST URLs at ``api_url`` (a mirror or a local fake server).

    For Binance USDⓈ-M the futures roots become ``{api_url}/fapi/v1|v2|v3``; for another
    venue every string entry of ``urls["api"]`` becomes ``api_url``.
    """
    root = api_url.rstrip("/")
    api = exchange.urls["api"]
    if "fapiPublic" in api:
        for key, version in (("fapiPublic", "v1"), ("fapiPublicV2", "v2"), ("fapiPublicV3", "v3")):
            api[key] = f"{root}/fapi/{version}"
        return
    for key, value in list(api.items()):
        if isinstance(value, str):
            api[key] = root


def translate_error(exc: Exception, what: str) -> Exception:
    """Return the sixbtc error for a ccxt exception raised while doing ``what``."""
    if isinstance(exc, ccxt.BadSymbol | ccxt.BadRequest | ccxt.ArgumentsRequired):
        return DataError(f"{what}: {exc}")
    if isinstance(
        exc,
        ccxt.RateLimitExceeded
        | ccxt.DDoSProtection
        | ccxt.RequestTimeout
        | ccxt.ExchangeNotAvailable,
    ):
        return TransientExchangeError(f"{what}: {type(exc).__name__}: {exc}")
    if isinstance(exc, ccxt.NetworkError):
        return NetworkUnavailable(
            f"{what}: venue unreachable ({exc}); "
            "offline? import local files with `sixbtc data import PATH`"
        )
    return TransientExchangeError(f"{what}: {type(exc).__name__}: {exc}")


class CcxtMarketData:
    """Paginated, retried OHLCV / funding / market-list reads through a sync ccxt client.

    Implements ``sixbtc.data.ports.MarketDataClient``.

    Parameters
    ----------
    exchange_id : str
        ccxt exchange id (default ``"binanceusdm"``); ignored when ``exchange`` is given.
    timeout_ms : int
        HTTP timeout per request, milliseconds.
    max_retries : int
        Retries after the first attempt on network / rate-limit / unavailable errors.
    exchange : ccxt.Exchange or None
        A pre-built client (tests point its URLs at a local fake server).
    backoff_s : float
        First back-off delay in seconds; doubled at each retry.
    now_ms : callable or None
        Returns the current epoch ms (used to drop the still-open last candle and funding
        events after now); default wall clock.
    api_url : str or None
        Replaces the venue's public REST root (``binanceusdm``: ``{api_url}/fapi/v1`` ...;
        other venues: every public ``urls["api"]`` entry), e.g. a mirror or a local fake.
    sleep : callable
        Sleeps between retries, seconds (tests record the waits).

    Raises
    ------
    DataError
        If ``exchange_id`` is not a ccxt exchange or a numeric argument is negative.
    """

    def __init__(
        self,
        exchange_id: str = "binanceusdm",
        *,
        timeout_ms: int = 10_000,
        max_retries: int = 3,
        exchange: Any = None,
        backoff_s: float = 1.0,
        now_ms: Callable[[], int] | None = None,
        api_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if timeout_ms <= 0 or max_retries < 0 or backoff_s < 0:
            raise DataError("timeout_ms must be > 0, max_retries and backoff_s >= 0")
        if exchange is None:
            factory = getattr(ccxt, exchange_id, None)
            if factory is None:
                raise DataError(f"unknown ccxt exchange id {exchange_id!r}")
            exchange = factory(
                {
                    "timeout": timeout_ms,
                    "enableRateLimit": True,
                    "options": {"fetchCurrencies": False},
                }
            )
        if api_url is not None:
            point_at(exchange, api_url)
        self.exchange = exchange
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._now_ms = now_ms or (lambda: int(time.time() * 1000))
        self._sleep = sleep
        self.retry_after_waits: list[float] = []  # Retry-After values honoured (s), for logs and tests

    # ---------------------------------------------------------------- probe
    def probe(self, timeout_s: float = 5.0) -> None:
        """Check that the venue answers, within about ``timeout_s`` seconds.

        Raises
        ------
        NetworkUnavailable
            DNS failure, connection refused or timeout: the venue cannot be reached
            (the app then tells the user to run ``sixbtc data import PATH``).
        TransientExchangeError
            The venue answered with an error (it is reachable but unhealthy).
        """
        outcome: dict[str, BaseException] = {}
        saved_timeout = self.exchange.timeout

        def call() -> None:
            try:
                self.exchange.fetch_time()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                outcome["error"] = exc

        self.exchange.timeout = int(timeout_s * 1000)
        try:
            worker = threading.Thread(target=call, name="ccxt-probe", daemon=True)
            worker.start()
            worker.join(timeout_s + 0.5)  # DNS lookups ignore the HTTP timeout
        finally:
            self.exchange.timeout = saved_timeout
        if worker.is_alive():
            raise NetworkUnavailable(f"{self.exchange.id}: no answer within {timeout_s} s")
        error = outcome.get("error")
        if error is None:
            return
        if isinstance(error, ccxt.NetworkError) and not isinstance(
            error, ccxt.RateLimitExceeded | ccxt.DDoSProtection | ccxt.ExchangeNotAvailable
        ):
            raise NetworkUnavailable(f"{self.exchange.id} unreachable: {error}") from error
        raise translate_error(error, f"{self.exchange.id} probe") from error

    # -------------------------------------------------------------- retries
    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        for attempt in range(self.max_retries + 1):
            try:
                return fn(*args, **kwargs)
            except ccxt.NetworkError as exc:
                if attempt == self.max_retries:
                    raise translate_error(exc, what) from exc
                delay = self._delay(exc, attempt)
                log.warning(
                    "%s: %s (attempt %d/%d), retrying in %.2f s",
                    what,
                    type(exc).__name__,
                    attempt + 1,
                    self.max_retries + 1,
                    delay,
                )
                self._sleep(delay)
            except ccxt.BaseError as exc:
                raise translate_error(exc, what) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, exc: Exception, attempt: int) -> float:
        """Back-off before retry ``attempt``: exponential, or the venue's ``Retry-After``.

        Raises
        ------
        TransientExchangeError
            If the venue asks to wait longer than :data:`MAX_RETRY_AFTER_S`.
        """
        delay = self.backoff_s * 2**attempt
        if not isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
            return delay
        asked = retry_after_s(getattr(self.exchange, "last_response_headers", None))
        if asked is None:
            return delay
        if asked > MAX_RETRY_AFTER_S:
            raise TransientExchangeError(
                f"{self.exchange.id}: rate limited, Retry-After {asked:.0f} s > {MAX_RETRY_AFTER_S:.0f} s"
            ) from exc
        self.retry_after_waits.append(asked)
        return max(delay, asked)

    # ---------------------------------------------------------------- reads
    def fetch_ohlcv(
        self, symbol: str, timeframe: str, since_ms: int, until_ms: int
    ) -> pd.DataFrame:
        """Closed candles with open time in ``[since_ms, until_ms)``, paginated.

        Parameters
        ----------
        symbol : str
            Base asset (``"BTC"`` -> ``"BTC/USDT:USDT"``).
        timeframe : str
            Timeframe value (``"1h"``).
        since_ms, until_ms : int
            Epoch milliseconds, half-open range of candle open times.

        Returns
        -------
        pandas.DataFrame
            Shape ``(n, 6)``, candle frame columns (timestamp ``datetime64[ns, UTC]``),
            ascending, unique. The last candle is dropped if not closed yet
            (open time + timeframe > now). Not validated here (the store validates).

        Raises
        ------
        DataError, TransientExchangeError, NetworkUnavailable
            See the module docstring.
        """
        tf = _timeframe(timeframe)
        until_ms = min(int(until_ms), self._now_ms() - tf.ms + 1)  # only closed candles
        market = to_ccxt_symbol(symbol)
        what = f"fetch_ohlcv {symbol} {tf.value}"
        rows: list[list[float]] = []
        cursor, empties = int(since_ms), 0
        while cursor < until_ms:
            page = self._call(
                what,
                self.exchange.fetch_ohlcv,
                market,
                tf.value,
                since=cursor,
                limit=OHLCV_PAGE_LIMIT,
                params={"until": until_ms - 1},
            )
            page = [row for row in page if cursor <= row[0] < until_ms]
            if not page:
                empties += 1
                if empties > EMPTY_PAGE_RETRIES:
                    break
                continue
            empties = 0
            rows.extend(page)
            cursor = int(max(row[0] for row in page)) + tf.ms
        return _ohlcv_frame(rows)

    def fetch_funding_history(self, symbol: str, since_ms: int, until_ms: int) -> pd.DataFrame:
        """Funding events with settlement time in ``[since_ms, until_ms)``, paginated.

        Returns
        -------
        pandas.DataFrame
            Shape ``(n, 2)``: ``timestamp`` (``datetime64[ns, UTC]``, raw settlement time),
            ``rate`` (float64 fraction per interval), ascending, unique. Events dated after
            now are dropped whatever ``until_ms`` says (a settlement cannot be in the future).
            Not validated here (the store validates).

        Raises
        ------
        DataError, TransientExchangeError, NetworkUnavailable
            See the module docstring.
        """
        market = to_ccxt_symbol(symbol)
        what = f"fetch_funding_history {symbol}"
        until_ms = min(int(until_ms), self._now_ms() + 1)  # only settlements that happened
        events: dict[int, float] = {}
        cursor, empties = int(since_ms), 0
        while cursor < until_ms:
            page = self._call(
                what,
                self.exchange.fetch_funding_rate_history,
                market,
                since=cursor,
                limit=FUNDING_PAGE_LIMIT,
                params={"until": until_ms - 1},
            )
            stamps = [
                (int(e["timestamp"]), e["fundingRate"])
                for e in page
                if e.get("timestamp") is not None and cursor <= e["timestamp"] < until_ms
            ]
            if not stamps:
                empties += 1
                if empties > EMPTY_PAGE_RETRIES:
                    break
                continue
            empties = 0
            events.update(stamps)
            cursor = max(ts for ts, _ in stamps) + 1
        frame = pd.DataFrame(sorted(events.items()), columns=list(FUNDING_COLUMNS))
        frame["timestamp"] = pd.to_datetime(
            frame["timestamp"].astype("int64"), unit="ms", utc=True
        ).astype("datetime64[ns, UTC]")
        frame["rate"] = frame["rate"].astype("float64")
        return frame

    def fetch_open_interest(self, symbol: str) -> tuple[int, float]:
        """``(time_ms, open_interest)`` now: the venue's reading time (epoch ms) and the open
        interest in base-asset units (Binance ``GET /fapi/v1/openInterest``).

        Raises
        ------
        DataError, TransientExchangeError, NetworkUnavailable
            See the module docstring; ``DataError`` also when the answer lacks a field.
        """
        got = self._call(f"fetch_open_interest {symbol}", self.exchange.fetch_open_interest, to_ccxt_symbol(symbol))
        amount, stamp = got.get("openInterestAmount"), got.get("timestamp")
        if amount is None or stamp is None:
            raise DataError(f"fetch_open_interest {symbol}: no amount or time in {got!r}")
        return int(stamp), float(amount)

    def list_symbols(self) -> list[str]:
        """Base assets of the active USDT-margined linear perpetuals, sorted.

        Raises
        ------
        TransientExchangeError, NetworkUnavailable
            If the market list cannot be loaded.
        """
        markets = self._call("load_markets", self.exchange.load_markets)
        return sorted(
            {
                m["base"]
                for m in markets.values()
                if m.get("swap")
                and m.get("linear")
                and m.get("active") is not False
                and m.get("quote") == QUOTE
                and m.get("settle") == QUOTE
            }
        )

    def listing_ms(self, symbol: str) -> int | None:
        """Listing date of ``symbol``'s perpetual (Binance ``onboardDate``), epoch ms, or None.

        Raises
        ------
        TransientExchangeError, NetworkUnavailable
            If the market list cannot be loaded.
        """
        markets = self._call("load_markets", self.exchange.load_markets)
        created = (markets.get(to_ccxt_symbol(symbol)) or {}).get("created")
        return int(created) if created else None


def _timeframe(value: str) -> Timeframe:
    try:
        return Timeframe.parse(str(value))
    except ValueError as exc:
        raise DataError(str(exc)) from None


def _ohlcv_frame(rows: list[list[float]]) -> pd.DataFrame:
    frame = pd.DataFrame([row[:6] for row in rows], columns=list(OHLCV_COLUMNS))
    frame = frame.drop_duplicates("timestamp", keep="last").sort_values("timestamp")
    frame["timestamp"] = pd.to_datetime(
        frame["timestamp"].astype("int64"), unit="ms", utc=True
    ).astype("datetime64[ns, UTC]")
    for name in OHLCV_COLUMNS[1:]:
        frame[name] = frame[name].astype("float64")
    return frame.reset_index(drop=True)
