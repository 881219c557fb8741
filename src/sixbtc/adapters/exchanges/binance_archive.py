"""Bulk candle history from Binance's public monthly archives (``data.binance.vision``).

Layout (Binance "binance-public-data" README): for USDⓈ-M futures,
``{base}/data/futures/um/monthly/klines/{PAIR}/{TF}/{PAIR}-{TF}-{YYYY}-{MM}.zip`` holds one
CSV of klines (``open_time, open, high, low, close, volume, close_time, quote_volume, count,
taker_buy_volume, taker_buy_quote_volume, ignore``; files since 2022 start with that header
line, older ones have none), and ``....zip.CHECKSUM`` holds ``"<sha256 hex>  <file name>"``.
A month is only published once it is over (a few days later). The zip is accepted only when
its SHA-256 matches the checksum file; the rows are not validated here (the downloader
validates every batch).
"""

from __future__ import annotations

import hashlib
import io
import zipfile

import httpx
import pandas as pd

from sixbtc.core.errors import DataError, NetworkUnavailable, TransientExchangeError
from sixbtc.domain.candles import OHLCV_COLUMNS

DEFAULT_BASE_URL = "https://data.binance.vision"


def archive_path(symbol: str, timeframe: str, year: int, month: int) -> str:
    """URL path of one monthly klines zip, e.g. ``/data/futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-01.zip``."""
    pair = f"{symbol.upper()}USDT"
    return f"/data/futures/um/monthly/klines/{pair}/{timeframe}/{pair}-{timeframe}-{year:04d}-{month:02d}.zip"


def parse_archive_csv(data: bytes) -> pd.DataFrame:
    """Candle frame (unvalidated) of one archive CSV; open times in ms or µs become UTC.

    Raises
    ------
    DataError
        If the CSV has fewer than six columns.
    """
    frame = pd.read_csv(io.BytesIO(data), header=None, dtype=str)
    if frame.shape[1] < 6:
        raise DataError(f"archive CSV has {frame.shape[1]} columns, expected 12")
    if not str(frame.iloc[0, 0]).strip().isdigit():
        frame = frame.iloc[1:]  # the header line of newer files
    frame = frame.iloc[:, :6].set_axis(list(OHLCV_COLUMNS), axis=1)
    opens = pd.to_numeric(frame["timestamp"], errors="coerce")
    unit = "us" if len(opens) and opens.max() > 1e14 else "ms"  # spot archives switched to µs in 2025
    out = frame.assign(timestamp=pd.to_datetime(opens, unit=unit, utc=True).astype("datetime64[ns, UTC]"))
    for name in OHLCV_COLUMNS[1:]:
        out[name] = pd.to_numeric(out[name], errors="coerce").astype("float64")
    return out.reset_index(drop=True)


class BinanceArchive:
    """Reads monthly klines archives over HTTPS (or from a local fake), checksum verified.

    Implements ``sixbtc.data.ports.CandleArchive``.

    Parameters
    ----------
    base_url : str
        Archive root (default ``https://data.binance.vision``).
    timeout_s : float
        HTTP timeout per request, seconds.
    client : httpx.Client or None
        A pre-built client (tests).
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, *, timeout_s: float = 60.0,
                 client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = client or httpx.Client(timeout=timeout_s, follow_redirects=True)

    def _get(self, path: str) -> bytes | None:
        try:
            response = self._http.get(self.base_url + path)
        except httpx.ConnectError as exc:
            raise NetworkUnavailable(f"archive {self.base_url} unreachable: {exc}") from exc
        except httpx.HTTPError as exc:
            raise TransientExchangeError(f"archive {path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise TransientExchangeError(f"archive {path}: HTTP {response.status_code}")
        return response.content

    def monthly_candles(self, symbol: str, timeframe: str, year: int, month: int) -> pd.DataFrame | None:
        """The month's candles (unvalidated candle frame), or None if it is not published.

        Raises
        ------
        DataError
            Checksum mismatch, missing checksum file, or an unreadable zip.
        TransientExchangeError, NetworkUnavailable
            HTTP errors other than 404, connection failure.
        """
        path = archive_path(symbol, timeframe, year, month)
        blob = self._get(path)
        if blob is None:
            return None
        checksum = self._get(path + ".CHECKSUM")
        if checksum is None:
            raise DataError(f"archive {path}: no checksum file")
        expected = checksum.decode("ascii", "replace").split()[0].lower() if checksum.strip() else ""
        actual = hashlib.sha256(blob).hexdigest()
        if actual != expected:
            raise DataError(f"archive {path}: SHA-256 {actual[:12]}… does not match the checksum {expected[:12]}…")
        try:
            with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                names = [n for n in archive.namelist() if n.endswith(".csv")]
                if not names:
                    raise DataError(f"archive {path}: no CSV inside")
                return parse_archive_csv(archive.read(names[0]))
        except zipfile.BadZipFile as exc:
            raise DataError(f"archive {path}: not a zip ({exc})") from exc

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()
