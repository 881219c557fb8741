"""Import of local candle / funding files into the candle store (SPEC §3.1 "Import").

Recognised files (a directory is scanned non-recursively, in name order):

* Parquet ``{SYMBOL}_{TF}.parquet`` / ``{SYMBOL}_funding.parquet`` in the candle frame
  contract (the layout of ``shared/data/binance_usdm/``);
* CryptoDataDownload CSV (first line a URL banner such as ``https://www.CryptoDataDownload.com``,
  then ``unix,date,symbol,open,high,low,close,Volume BTC,Volume USD[,tradecount]``, rows
  newest first, ``unix`` in s or ms), named ``{Exchange}_{PAIR}_{tf}.csv`` e.g.
  ``Binance_BTCUSDT_1h.csv``, ``Bitstamp_ETHUSD_d.csv``; the base-asset volume column
  (``Volume BTC``) is the volume;
* plain CSV ``{SYMBOL}_{TF}.csv`` with a ``timestamp|date|time|open_time`` column and
  ``open high low close volume`` (or ``{SYMBOL}_funding.csv`` with ``timestamp, rate``).

Every batch goes through :mod:`sixbtc.data.validation` then the store. A bad file yields an
:class:`ImportResult` with ``error`` set; it never aborts the other files.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sixbtc.core.errors import DataError
from sixbtc.data.ports import CandleStore
from sixbtc.data.validation import validate_candles, validate_funding
from sixbtc.domain.timeframe import Timeframe

log = logging.getLogger(__name__)

FUNDING = "funding"
_NATIVE_NAME = re.compile(r"^(?P<symbol>[A-Z0-9]{1,30})_(?P<tf>[0-9]+[mhd]|funding)$")
_CDD_NAME = re.compile(r"^(?P<venue>[A-Za-z0-9]+)_(?P<pair>[A-Za-z0-9]+)_(?P<tf>[0-9]*[a-zA-Z]+)$")
_CDD_TIMEFRAMES = {
    "d": "1d",
    "1d": "1d",
    "1h": "1h",
    "4h": "4h",
    "minute": "1m",
    "1m": "1m",
    "5m": "5m",
    "15m": "15m",
    "30m": "30m",
}
_QUOTES = ("USDT", "USDC", "BUSD", "FDUSD", "USD", "EUR", "GBP", "BTC")
_TIME_COLUMNS = ("timestamp", "date", "time", "open_time")
_SECONDS_LIMIT = 10**11  # epoch values below this are seconds (10**11 s is year 5138)


@dataclass(frozen=True)
class ImportResult:
    """Outcome of importing one file.

    Attributes
    ----------
    file : pathlib.Path
        The source file.
    symbol : str or None
        Base asset (``"BTC"``), None if the name was not recognised.
    timeframe : str or None
        Timeframe value, ``"funding"`` for funding files, None if not recognised.
    stored : int
        Rows of the file now in the store.
    rejected : int
        Rows rejected by validation.
    reasons : dict[str, int]
        Rejection reason -> count (see :data:`sixbtc.data.validation.REASON_TEXT`).
    error : str or None
        Why the file could not be imported (None on success).
    skipped : bool
        True when the file was not imported on purpose (filtered out or not a data file).
    """

    file: Path
    symbol: str | None
    timeframe: str | None
    stored: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    skipped: bool = False


@dataclass(frozen=True)
class ImportSource:
    """What a file name says: base asset, timeframe (or ``"funding"``) and layout
    (``"parquet"``, ``"cdd"`` CryptoDataDownload CSV, or ``"csv"`` plain CSV)."""

    symbol: str
    timeframe: str
    layout: str  # "parquet", "cdd" or "csv"


def import_path(
    path: Path,
    store: CandleStore,
    symbols: set[str] | None = None,
    timeframes: set[str] | None = None,
) -> list[ImportResult]:
    """Import a file, or every recognised file directly inside a directory.

    Parameters
    ----------
    path : pathlib.Path
        A ``.parquet``/``.csv`` file or a directory of them (not recursive).
    store : CandleStore
        Destination store.
    symbols : set[str] or None
        Only import these base assets (None = all).
    timeframes : set[str] or None
        Only import these timeframes; include ``"funding"`` for funding files (None = all).

    Returns
    -------
    list[ImportResult]
        One result per candidate file (in name order), including skipped and failed ones.

    Raises
    ------
    DataError
        If ``path`` does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"import path {path} does not exist")
    files = (
        [path]
        if path.is_file()
        else sorted(
            p for p in path.iterdir() if p.is_file() and p.suffix.lower() in {".csv", ".parquet"}
        )
    )
    return [_import_file(f, store, symbols, timeframes) for f in files]


def _import_file(
    file: Path, store: CandleStore, symbols: set[str] | None, timeframes: set[str] | None
) -> ImportResult:
    try:
        source = classify(file)
    except DataError as exc:
        return ImportResult(file=file, symbol=None, timeframe=None, error=str(exc), skipped=True)
    if (symbols is not None and source.symbol not in symbols) or (
        timeframes is not None and source.timeframe not in timeframes
    ):
        return ImportResult(
            file=file, symbol=source.symbol, timeframe=source.timeframe, skipped=True
        )
    try:
        frame = _read(file, source)
        if source.timeframe == FUNDING:
            checked = validate_funding(frame)
            stored = store.write_funding(source.symbol, checked.valid)
        else:
            checked = validate_candles(frame, source.timeframe)
            stored = store.write_candles(source.symbol, source.timeframe, checked.valid)
    except Exception as exc:  # noqa: BLE001 - one bad file must not abort the others
        log.warning("import of %s failed: %s", file, exc)
        return ImportResult(
            file=file,
            symbol=source.symbol,
            timeframe=source.timeframe,
            error=f"{type(exc).__name__}: {exc}",
        )
    return ImportResult(
        file=file,
        symbol=source.symbol,
        timeframe=source.timeframe,
        stored=stored,
        rejected=checked.rejected,
        reasons=dict(checked.reasons),
    )


def classify(file: Path) -> ImportSource:
    """Recognise ``file`` by name and return its symbol, timeframe and layout.

    Raises
    ------
    DataError
        If the name matches none of the layouts listed in the module docstring.
    """
    suffix = file.suffix.lower()
    match = _NATIVE_NAME.match(file.stem)
    if match and suffix in {".parquet", ".csv"}:
        tf = match["tf"] if match["tf"] == FUNDING else _timeframe(match["tf"], file)
        return ImportSource(match["symbol"], tf, "parquet" if suffix == ".parquet" else "csv")
    match = _CDD_NAME.match(file.stem)
    if match and suffix == ".csv":
        tf_key = match["tf"].lower()
        if tf_key not in _CDD_TIMEFRAMES:
            raise DataError(f"{file.name}: unknown CryptoDataDownload timeframe {match['tf']!r}")
        return ImportSource(_base_asset(match["pair"].upper()), _CDD_TIMEFRAMES[tf_key], "cdd")
    raise DataError(
        f"{file.name}: unrecognised file name (expected SYMBOL_TF.parquet|csv, "
        "SYMBOL_funding.parquet or Exchange_PAIR_tf.csv)"
    )


def _timeframe(value: str, file: Path) -> str:
    try:
        return Timeframe.parse(value).value
    except ValueError as exc:
        raise DataError(f"{file.name}: {exc}") from None


def _base_asset(pair: str) -> str:
    for quote in _QUOTES:
        if pair.endswith(quote) and len(pair) > len(quote):
            return pair[: -len(quote)]
    raise DataError(f"cannot split trading pair {pair!r} into base and quote")


def _read(file: Path, source: ImportSource) -> pd.DataFrame:
    if source.layout == "parquet":
        return pd.read_parquet(file)
    text = file.read_text(encoding="utf-8-sig")
    if source.layout == "cdd":
        return _read_cdd(text, source.symbol)
    frame = pd.read_csv(io.StringIO(text))
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    time_col = next((c for c in _TIME_COLUMNS if c in frame.columns), None)
    if time_col is None:
        raise DataError(f"{file.name}: no time column (one of {', '.join(_TIME_COLUMNS)})")
    stamps = frame.pop(time_col)
    frame.insert(0, "timestamp", epoch_to_ms(stamps) if _is_numeric(stamps) else stamps)
    return frame


def _read_cdd(text: str, base: str) -> pd.DataFrame:
    lines = text.splitlines()
    if lines and "cryptodatadownload" in lines[0].lower():
        lines = lines[1:]
    raw = pd.read_csv(io.StringIO("\n".join(lines)))
    columns = {str(c).strip().lower(): c for c in raw.columns}
    volume_col = columns.get(f"volume {base.lower()}")
    if volume_col is None:
        raise DataError(f"CryptoDataDownload file has no base-volume column 'Volume {base}'")
    if "unix" in columns:
        stamps = epoch_to_ms(raw[columns["unix"]])
    elif "date" in columns:
        stamps = _parse_cdd_dates(raw[columns["date"]])
    else:
        raise DataError("CryptoDataDownload file has neither a 'unix' nor a 'date' column")
    frame = pd.DataFrame({"timestamp": stamps})
    for name in ("open", "high", "low", "close"):
        if name not in columns:
            raise DataError(f"CryptoDataDownload file is missing column {name!r}")
        frame[name] = raw[columns[name]]
    frame["volume"] = raw[volume_col]
    return frame.iloc[::-1].reset_index(drop=True)  # CDD rows are newest first


def _parse_cdd_dates(values: pd.Series) -> pd.Series:
    """Parse CDD ``date`` strings, including the old ``2019-10-17 09-AM`` hourly form."""
    text = values.astype("string").str.strip()
    hourly = pd.to_datetime(text, format="%Y-%m-%d %I-%p", errors="coerce", utc=True)
    general = pd.to_datetime(text, format="mixed", errors="coerce", utc=True)
    return hourly.fillna(general)


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values)


def epoch_to_ms(values: pd.Series) -> pd.Series:
    """Convert epoch seconds or milliseconds to epoch milliseconds (float64, NaN kept).

    Parameters
    ----------
    values : pandas.Series
        Shape ``(n,)``, epoch times; each value below ``1e11`` is taken as **seconds**
        (1e11 s is in the year 5138, 1e11 ms is in 1973), others as **milliseconds**.

    Returns
    -------
    pandas.Series
        Shape ``(n,)``, float64 epoch milliseconds.
    """
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    return pd.Series(
        np.where(numbers.abs() < _SECONDS_LIMIT, numbers * 1000.0, numbers),
        index=values.index,
        dtype="float64",
    )
