"""What ``sixbtc data import`` can read: file names, folder scans and file layouts.

Recognised names (symbols are case-insensitive and stored upper-case; timeframes are written
exactly as in :class:`~sixbtc.domain.timeframe.Timeframe`, so ``1M`` can never be mistaken
for one month):

* ``{SYMBOL}_{TF}.parquet`` / ``{SYMBOL}_funding.parquet`` in the candle frame contract (the
  layout of ``shared/data/binance_usdm/``);
* CryptoDataDownload CSV ``{Exchange}_{PAIR}_{tf}.csv`` (``Binance_BTCUSDT_1h.csv``,
  ``Bitstamp_ETHUSD_d.csv``): a URL banner line, then
  ``unix,date,symbol,open,high,low,close,Volume BTC,Volume USD[,tradecount]``, newest first;
  the base-asset volume column (``Volume BTC``) is the volume;
* plain CSV ``{SYMBOL}_{TF}.csv`` / ``{SYMBOL}_funding.csv``;
* freqtrade's data folder (freqtrade docs "Data Downloading"): ``{BASE}_{QUOTE}-{TF}.feather|json``
  (spot), ``{BASE}_{QUOTE}_{SETTLE}-{TF}-futures.feather|json`` (futures candles) and
  ``{BASE}_{QUOTE}_{SETTLE}-{TF}-funding_rate.feather|json`` (funding: freqtrade keeps the rate
  in the ``open`` column of a candle frame); feather files have the columns ``date open high low
  close volume``, JSON files are ``[[epoch ms, open, high, low, close, volume], ...]``; ``-mark``
  (mark price) files are not candles of the venue's trades and are refused.

Parquet and plain CSV may name the time column ``timestamp``, ``date``, ``time`` or
``open_time`` (any case, or as the index). Datetime columns keep their instant (naive = UTC);
numeric columns are epoch times whose unit (s, ms, us, ns) is inferred per value from its
magnitude (:func:`sixbtc.data.timestamps.epoch_to_utc`) and reported in the import notes.

CSV text is UTF-8 (with or without a byte-order mark) or UTF-16 with its byte-order mark (the
"Unicode text" of spreadsheets); other encodings are refused naming the first bad byte. The
separator is ``,`` unless the header line holds none and holds ``;``, a tab or ``|`` (noted).
A file that is empty, or that changes while it is read (a download still being written), is
refused.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sixbtc.core.encoding import NotUtf8, decode_text
from sixbtc.core.errors import DataError
from sixbtc.data.timestamps import describe_units, epoch_to_utc
from sixbtc.domain.timeframe import Timeframe

FUNDING = "funding"
DATA_SUFFIXES = (".csv", ".parquet", ".feather", ".json")
_NATIVE_NAME = re.compile(r"^(?P<symbol>[A-Za-z0-9]{1,30})_(?P<tf>[0-9]+[A-Za-z]+|funding)$", re.I)
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
_FREQTRADE_NAME = re.compile(
    r"^(?P<base>[A-Za-z0-9]{1,30})_(?P<quote>[A-Za-z0-9]{1,10})(?:_(?P<settle>[A-Za-z0-9]{1,10}))?"
    r"-(?P<tf>[0-9]+[A-Za-z]+)(?:-(?P<kind>futures|funding_rate|mark|spot))?$")
_QUOTES = ("USDT", "USDC", "BUSD", "FDUSD", "USD", "EUR", "GBP", "BTC")
TIME_COLUMNS = ("timestamp", "date", "time", "open_time")
#: Separators recognised in a CSV header line without a comma, in order of preference.
OTHER_SEPARATORS = (";", "\t", "|")
_SEPARATOR_NAMES = {";": "';'", "\t": "tabs", "|": "'|'"}


@dataclass(frozen=True)
class ImportSource:
    """What a file name says: base asset, timeframe (or ``"funding"``) and layout
    (``"parquet"``, ``"cdd"`` CryptoDataDownload CSV, or ``"csv"`` plain CSV)."""

    symbol: str
    timeframe: str
    layout: str  # "parquet", "cdd", "csv" or "freqtrade"


@dataclass(frozen=True)
class Candidate:
    """One entry met by an import: a file to import, or why it is not one.

    Attributes
    ----------
    file : pathlib.Path
        The entry.
    problem : str or None
        None if the entry is a readable regular ``.csv``/``.parquet`` file; otherwise why not
        (a folder, a broken symbolic link, a FIFO, another suffix).
    data_like : bool
        True if the name ends in ``.csv``/``.parquet`` (a problem with such an entry is a
        failed import, not a skip).
    """

    file: Path
    problem: str | None
    data_like: bool


def candidates(path: Path) -> list[Candidate]:
    """Every entry of a folder in name order (not recursive), or ``path`` itself if a file.

    Raises
    ------
    DataError
        If ``path`` does not exist or is a broken symbolic link (the message says which).
    """
    if not path.exists():
        if path.is_symlink():
            raise DataError(f"import path {path} is a broken symbolic link to {os.readlink(path)}")
        raise DataError(f"import path {path} does not exist")
    if path.is_dir():
        return [_candidate(p, in_folder=True) for p in sorted(path.iterdir())]
    return [_candidate(path, in_folder=False)]


def _candidate(p: Path, *, in_folder: bool) -> Candidate:
    suffix = p.suffix.lower()
    data_like = suffix in (".csv", ".parquet") or (suffix in DATA_SUFFIXES and bool(_FREQTRADE_NAME.match(p.stem)))
    if p.is_symlink() and not p.exists():
        return Candidate(p, f"broken symbolic link to {os.readlink(p)}", data_like)
    mode = p.stat().st_mode
    if stat.S_ISDIR(mode):
        why = "a folder: import does not recurse (name the folder to import it)"
        return Candidate(p, why if in_folder else "a folder", False)
    if not stat.S_ISREG(mode):
        return Candidate(p, "not a regular file (FIFO, socket or device)", data_like)
    if not data_like:
        return Candidate(p, "not a .parquet or .csv file (nor a freqtrade .feather/.json)", False)
    return Candidate(p, None, True)


def classify(file: Path) -> ImportSource:
    """Recognise ``file`` by name and return its symbol, timeframe and layout.

    Raises
    ------
    DataError
        If the name matches none of the layouts listed in the module docstring, or names an
        unknown timeframe (the message lists the accepted ones).
    """
    suffix = file.suffix.lower()
    match = _NATIVE_NAME.match(file.stem)
    if match and suffix in DATA_SUFFIXES:
        tf = FUNDING if match["tf"].lower() == FUNDING else _timeframe(match["tf"], file)
        layout = "parquet" if suffix == ".parquet" else "csv"
        return ImportSource(match["symbol"].upper(), tf, layout)
    match = _CDD_NAME.match(file.stem)
    if match and suffix == ".csv":
        tf_key = match["tf"].lower()
        if tf_key not in _CDD_TIMEFRAMES:
            raise DataError(f"{file.name}: unknown CryptoDataDownload timeframe {match['tf']!r}")
        return ImportSource(_base_asset(match["pair"].upper()), _CDD_TIMEFRAMES[tf_key], "cdd")
    match = _FREQTRADE_NAME.match(file.stem)
    if match and suffix in (".feather", ".json"):
        if match["kind"] == "mark":
            raise DataError(f"{file.name}: freqtrade mark-price candles are not imported (trade candles only)")
        tf = FUNDING if match["kind"] == "funding_rate" else _timeframe(match["tf"], file)
        return ImportSource(match["base"].upper(), tf, "freqtrade")
    raise DataError(
        f"{file.name}: unrecognised file name (expected SYMBOL_TF.parquet|csv, "
        "SYMBOL_funding.parquet|csv, Exchange_PAIR_tf.csv or freqtrade's "
        "BASE_QUOTE[_SETTLE]-TF[-futures|-funding_rate].feather|json)"
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


def read_source(file: Path, source: ImportSource) -> tuple[pd.DataFrame, list[str]]:
    """Read ``file`` into a raw frame with a ``timestamp`` column, plus notes on how.

    Returns
    -------
    frame : pandas.DataFrame
        ``timestamp`` then the file's value columns (lower-case names), not yet validated.
    notes : list[str]
        E.g. ``["timestamps read as epoch seconds (unit inferred from magnitude)"]``.

    Raises
    ------
    DataError
        The file is empty, is not UTF-8/UTF-16 text (CSV), changed while it was read, has no
        time column, or a CryptoDataDownload column is missing; the message starts with the
        file name.
    OSError, ValueError, pyarrow.ArrowException
        The file cannot be read or parsed.
    """
    before = _version(file)
    if before[1] == 0:
        raise DataError(f"{file.name}: the file is empty (0 bytes)")
    if source.layout == "parquet":
        frame, notes = pd.read_parquet(file), []
    elif source.layout == "freqtrade":
        frame, notes = _read_freqtrade(file, funding=source.timeframe == FUNDING)
    else:
        text = _decode(file)
        if source.layout == "cdd":
            frame, notes = _read_cdd(text, source.symbol)
        else:
            frame, notes = _read_csv(text)
    if _version(file) != before:
        raise DataError(f"{file.name}: the file changed while it was read; import it again when complete")
    return (frame, notes) if source.layout == "cdd" else _with_timestamp(frame, file, notes)


def _version(file: Path) -> tuple[int, int]:
    """(mtime in ns, size in bytes): a change of either means the file was written."""
    st = file.stat()
    return st.st_mtime_ns, st.st_size


def _decode(file: Path) -> str:
    """The text of a CSV file (:func:`sixbtc.core.encoding.decode_text`, UTF-16 allowed)."""
    try:
        return decode_text(file.read_bytes(), utf16=True)
    except NotUtf8 as exc:
        raise DataError(f"{file.name}: {exc}") from None


def _read_csv(text: str) -> tuple[pd.DataFrame, list[str]]:
    """Parse plain CSV text, with the separator of its header line (see the module docstring)."""
    header = text.split("\n", 1)[0]
    sep = ","
    if "," not in header:
        sep = next((s for s in OTHER_SEPARATORS if s in header), ",")
    notes = [] if sep == "," else [f"columns separated by {_SEPARATOR_NAMES[sep]}"]
    return pd.read_csv(io.StringIO(text), sep=sep), notes


def _with_timestamp(frame: pd.DataFrame, file: Path, notes: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Lower-case the column names and move the time column (or index) to ``timestamp``."""
    if frame.index.name is not None and str(frame.index.name).strip().lower() in TIME_COLUMNS:
        frame = frame.reset_index()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    time_col = next((c for c in TIME_COLUMNS if c in frame.columns), None)
    if time_col is None:
        found = ", ".join(list(frame.columns)[:12]) or "none"
        raise DataError(f"{file.name}: no time column (one of {', '.join(TIME_COLUMNS)}); "
                        f"columns found: {found}")
    stamps = frame.pop(time_col)
    notes = list(notes)
    if _is_numeric(stamps):
        stamps, units = epoch_to_utc(stamps)
        notes.append(f"timestamps read as {describe_units(units)} (unit inferred from magnitude)")
    frame.insert(0, "timestamp", stamps)
    return frame, notes


def _read_freqtrade(file: Path, *, funding: bool) -> tuple[pd.DataFrame, list[str]]:
    """A freqtrade feather / JSON file as a frame with ``date`` and value columns; for a
    ``-funding_rate`` file the ``open`` column becomes ``rate``."""
    if file.suffix.lower() == ".feather":
        frame = pd.read_feather(file)
    else:
        rows = json.loads(_decode(file))
        if not isinstance(rows, list) or any(not isinstance(r, list) or len(r) < 6 for r in rows):
            raise DataError(f"{file.name}: expected freqtrade JSON [[ms, open, high, low, close, volume], ...]")
        frame = pd.DataFrame([r[:6] for r in rows], columns=["date", "open", "high", "low", "close", "volume"])
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    notes = ["freqtrade layout"]
    if funding:
        if "open" not in frame.columns:
            raise DataError(f"{file.name}: a freqtrade funding_rate file keeps the rate in 'open'; no such column")
        frame = frame[[c for c in ("date",) if c in frame.columns] + ["open"]].rename(columns={"open": "rate"})
        notes.append("funding rate read from the 'open' column")
    return frame, notes


def _read_cdd(text: str, base: str) -> tuple[pd.DataFrame, list[str]]:
    lines = text.splitlines()
    if lines and "cryptodatadownload" in lines[0].lower():
        lines = lines[1:]
    raw = pd.read_csv(io.StringIO("\n".join(lines)))
    columns = {str(c).strip().lower(): c for c in raw.columns}
    volume_col = columns.get(f"volume {base.lower()}")
    if volume_col is None:
        raise DataError(f"CryptoDataDownload file has no base-volume column 'Volume {base}'")
    notes: list[str] = []
    if "unix" in columns:
        stamps, units = epoch_to_utc(raw[columns["unix"]])
        notes.append(f"timestamps read as {describe_units(units)} (unit inferred from magnitude)")
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
    return frame.iloc[::-1].reset_index(drop=True), notes  # CDD rows are newest first


def _parse_cdd_dates(values: pd.Series) -> pd.Series:
    """Parse CDD ``date`` strings, including the old ``2019-10-17 09-AM`` hourly form."""
    text = values.astype("string").str.strip()
    hourly = pd.to_datetime(text, format="%Y-%m-%d %I-%p", errors="coerce", utc=True)
    general = pd.to_datetime(text, format="mixed", errors="coerce", utc=True)
    return hourly.fillna(general)


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values)
