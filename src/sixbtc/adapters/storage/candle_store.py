"""Parquet candle store: one file per symbol and timeframe (SPEC §3.1, ARCHITECTURE §2).

Layout under ``root``::

    {SYMBOL}_{TF}.parquet      candles (candle frame contract of sixbtc.domain.candles)
    {SYMBOL}_{TF}.meta.json    sidecar: symbol, timeframe, first, last (ISO 8601 UTC), rows,
                               is_full_history, updated_at
    {SYMBOL}_funding.parquet   funding events (timestamp, rate)

Writes merge with the stored rows (new rows win on equal timestamps), re-validate the merged
frame, and are atomic: temp file in the same directory, fsync, verified by reading it back,
``os.replace``, fsync of the directory. Reads go through a small in-process LRU cache keyed
by (path, mtime_ns, size). Auto-heal: a file under 12 bytes, not parseable as Parquet, or
without the required columns is deleted (warning logged) and treated as absent; an I/O
error (permissions, failing disk) raises ``DataError`` and leaves the file alone.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sixbtc.core.errors import DataError
from sixbtc.data.ports import StoreEntry
from sixbtc.data.validation import CandleValidation, validate_candles, validate_funding
from sixbtc.domain.candles import FUNDING_COLUMNS, OHLCV_COLUMNS
from sixbtc.domain.timeframe import Timeframe

log = logging.getLogger(__name__)

MIN_FILE_BYTES = 12
"""Parquet files shorter than this (magic + footer length) are corrupt and get deleted."""

_SYMBOL_RE = re.compile(r"^[A-Z0-9]{1,30}$")
FUNDING = "funding"


def check_symbol(symbol: str) -> str:
    """Return ``symbol`` if it is a base asset name (``A-Z0-9``, 1–30 chars), else raise.

    Raises
    ------
    DataError
        If ``symbol`` is not an upper-case alphanumeric base asset such as ``"BTC"`` or
        ``"1000PEPE"`` (this also keeps file names inside the store root).
    """
    if not isinstance(symbol, str) or not _SYMBOL_RE.match(symbol):
        raise DataError(
            f"invalid symbol {symbol!r}: expected a base asset like 'BTC' or '1000PEPE'"
        )
    return symbol


def check_timeframe(timeframe: str) -> str:
    """Return the canonical timeframe value; raise ``DataError`` naming accepted values."""
    try:
        return Timeframe.parse(str(timeframe)).value
    except ValueError as exc:
        raise DataError(str(exc)) from None


def _utc(ts: pd.Timestamp | None, name: str) -> pd.Timestamp | None:
    if ts is None:
        return None
    try:
        stamp = pd.Timestamp(ts)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} is not a timestamp: {ts!r}") from exc
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(
    path: Path, write: Callable[[object], None], verify: Callable[[Path], None]
) -> None:
    """Write via ``write(fileobj)`` to a temp file next to ``path``, verify, then replace."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        verify(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


class ParquetCandleStore:
    """Candle and funding store on local Parquet files; implements ``CandleStore``.

    Parameters
    ----------
    root : pathlib.Path
        Directory of the store (created if missing), e.g. ``data/binance``.
    cache_size : int
        Number of whole series kept in the in-process read cache (0 disables it).

    Raises
    ------
    DataError
        If ``root`` exists and is not a directory, or ``cache_size`` is negative.
    """

    def __init__(self, root: Path, cache_size: int = 32) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise DataError(f"candle store root {self.root} is not a directory")
        if cache_size < 0:
            raise DataError(f"cache_size must be >= 0, got {cache_size}")
        self.root.mkdir(parents=True, exist_ok=True)
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[str, int, int], pd.DataFrame] = OrderedDict()
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ paths
    def candle_path(self, symbol: str, timeframe: str) -> Path:
        """Path of the Parquet file of ``symbol``/``timeframe`` (validated names)."""
        return self.root / f"{check_symbol(symbol)}_{check_timeframe(timeframe)}.parquet"

    def meta_path(self, symbol: str, timeframe: str) -> Path:
        """Path of the ``.meta.json`` sidecar of ``symbol``/``timeframe``."""
        return self.root / f"{check_symbol(symbol)}_{check_timeframe(timeframe)}.meta.json"

    def funding_path(self, symbol: str) -> Path:
        """Path of the funding Parquet file of ``symbol``."""
        return self.root / f"{check_symbol(symbol)}_{FUNDING}.parquet"

    # ------------------------------------------------------------ low level
    def _heal(self, path: Path, why: str) -> None:
        log.warning("candle store: deleting %s (%s); it will be treated as absent", path, why)
        path.unlink(missing_ok=True)
        if path.name.endswith(".parquet"):
            path.with_name(path.name[: -len(".parquet")] + ".meta.json").unlink(missing_ok=True)
        with self._lock:
            for key in [k for k in self._cache if k[0] == str(path)]:
                del self._cache[key]

    def _load(self, path: Path, columns: tuple[str, ...]) -> pd.DataFrame | None:
        """Whole stored frame (shared cached object: never mutate) or None if absent."""
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        if stat.st_size < MIN_FILE_BYTES:
            self._heal(path, f"only {stat.st_size} bytes")
            return None
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        try:
            frame = pd.read_parquet(path)
        except (pa.ArrowException, ValueError) as exc:  # corrupt content (not an I/O fault)
            self._heal(path, f"unreadable: {exc}")
            return None
        except OSError as exc:  # e.g. permissions or a failing disk: keep the file
            raise DataError(f"cannot read {path}: {exc}") from exc
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            self._heal(path, f"missing columns {missing}")
            return None
        frame = frame[list(columns)]
        if self._cache_size:
            with self._lock:
                self._cache[key] = frame
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return frame

    def _write_frame(self, path: Path, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)

        def verify(tmp: Path) -> None:
            try:
                back = pd.read_parquet(tmp)
            except Exception as exc:  # noqa: BLE001 - any failure means the write is bad
                raise DataError(f"verification of {path.name} failed: {exc}") from exc
            if len(back) != len(frame) or not back["timestamp"].equals(frame["timestamp"]):
                raise DataError(f"verification of {path.name} failed: read-back differs")

        _atomic_write(
            path, lambda handle: pq.write_table(table, handle, compression="zstd"), verify
        )

    def _merge(
        self,
        stored: pd.DataFrame | None,
        batch: pd.DataFrame,
        validate: Callable[[pd.DataFrame], CandleValidation],
    ) -> pd.DataFrame:
        if stored is None or stored.empty:
            return batch
        merged = pd.concat([stored, batch], ignore_index=True)
        merged = merged.drop_duplicates("timestamp", keep="last")
        result = validate(merged)
        if result.rejected:  # pragma: no cover - both inputs were validated
            raise DataError(f"merged series failed validation: {result.reasons}")
        return result.valid

    # --------------------------------------------------------------- candles
    def write_candles(
        self, symbol: str, timeframe: str, df: pd.DataFrame, *, is_full_history: bool | None = None
    ) -> int:
        """Validate ``df`` and merge it into the stored series.

        Parameters
        ----------
        symbol, timeframe : str
            Series identity (``"BTC"``, ``"1h"``).
        df : pandas.DataFrame
            Candle batch, shape ``(n, >= 6)``, see :func:`sixbtc.data.validation.validate_candles`.
            Invalid rows are dropped (logged), never stored.
        is_full_history : bool or None
            Sidecar flag; None keeps the stored value (False for a new series).

        Returns
        -------
        int
            Number of valid rows of ``df`` now stored (rows of the batch that passed).

        Raises
        ------
        DataError
            Bad symbol/timeframe, missing column, or a failed write verification.
        """
        path = self.candle_path(symbol, timeframe)
        tf = check_timeframe(timeframe)
        checked = validate_candles(df, tf)
        if checked.valid.empty:
            return 0
        with self._lock:
            stored = self._load(path, OHLCV_COLUMNS)
            merged = self._merge(stored, checked.valid, lambda f: validate_candles(f, tf))
            self._write_frame(path, merged)
            previous = self._read_meta(symbol, tf)
            full = (
                is_full_history
                if is_full_history is not None
                else bool(previous and previous.get("is_full_history"))
            )
            self._write_meta(symbol, tf, merged, full)
        return len(checked.valid)

    def read_candles(
        self,
        symbol: str,
        timeframe: str,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Stored candles with open time in the half-open range ``[start, end)``.

        Parameters
        ----------
        symbol, timeframe : str
            Series identity.
        start, end : pandas.Timestamp or None
            Bounds (naive values are taken as UTC); None = unbounded.

        Returns
        -------
        pandas.DataFrame
            A copy, shape ``(n, 6)``, candle frame contract.

        Raises
        ------
        DataError
            If no readable file is stored for the series, or a bound is not a timestamp.
        """
        path = self.candle_path(symbol, timeframe)
        frame = self._load(path, OHLCV_COLUMNS)
        if frame is None:
            raise DataError(f"no candles stored for {symbol} {timeframe} (expected {path})")
        return _slice(frame, _utc(start, "start"), _utc(end, "end"))

    def has(self, symbol: str, timeframe: str) -> bool:
        """True if a readable candle file exists for ``symbol``/``timeframe``."""
        return self._load(self.candle_path(symbol, timeframe), OHLCV_COLUMNS) is not None

    def last_timestamp(self, symbol: str, timeframe: str) -> pd.Timestamp | None:
        """Open time of the last stored candle, or None if nothing is stored."""
        entry = self.entry(symbol, timeframe)
        return entry.last if entry else None

    def entry(self, symbol: str, timeframe: str) -> StoreEntry | None:
        """Summary of one stored series (from the file itself), or None if absent."""
        tf = check_timeframe(timeframe)
        frame = self._load(self.candle_path(symbol, tf), OHLCV_COLUMNS)
        if frame is None or frame.empty:
            return None
        meta = self._read_meta(symbol, tf) or {}
        return StoreEntry(
            symbol=symbol,
            timeframe=tf,
            first=frame["timestamp"].iloc[0],
            last=frame["timestamp"].iloc[-1],
            rows=len(frame),
            is_full_history=bool(meta.get("is_full_history", False)),
        )

    def inventory(self) -> list[StoreEntry]:
        """Every stored candle series (funding excluded), sorted by symbol then timeframe."""
        entries = []
        for symbol, tf in self._series():
            entry = self.entry(symbol, tf)
            if entry is not None:
                entries.append(entry)
        return sorted(entries, key=lambda e: (e.symbol, Timeframe(e.timeframe).ms))

    def symbols(self, timeframe: str) -> list[str]:
        """Sorted symbols that have a readable ``timeframe`` series."""
        tf = check_timeframe(timeframe)
        return sorted(s for s, t in self._series() if t == tf and self.has(s, t))

    def _series(self) -> list[tuple[str, str]]:
        found = []
        for path in self.root.glob("*_*.parquet"):
            symbol, _, tf = path.stem.rpartition("_")
            if _SYMBOL_RE.match(symbol) and tf in {t.value for t in Timeframe}:
                found.append((symbol, tf))
        return found

    # ----------------------------------------------------------------- meta
    def _read_meta(self, symbol: str, timeframe: str) -> dict | None:
        path = self.meta_path(symbol, timeframe)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("candle store: ignoring unreadable sidecar %s (%s)", path, exc)
            return None

    def _write_meta(self, symbol: str, timeframe: str, frame: pd.DataFrame, full: bool) -> None:
        meta = {
            "symbol": symbol,
            "timeframe": timeframe,
            "first": frame["timestamp"].iloc[0].isoformat(),
            "last": frame["timestamp"].iloc[-1].isoformat(),
            "rows": len(frame),
            "is_full_history": full,
            "updated_at": datetime.now(UTC).isoformat(),
        }
        data = json.dumps(meta, indent=2).encode("utf-8")
        _atomic_write(
            self.meta_path(symbol, timeframe),
            lambda h: h.write(data),
            lambda tmp: json.loads(tmp.read_text(encoding="utf-8")),
        )

    # -------------------------------------------------------------- funding
    def write_funding(self, symbol: str, df: pd.DataFrame) -> int:
        """Validate funding events and merge them into ``{SYMBOL}_funding.parquet``.

        Parameters
        ----------
        symbol : str
            Base asset.
        df : pandas.DataFrame
            Columns ``timestamp`` (settlement time) and ``rate`` (fraction per interval).

        Returns
        -------
        int
            Number of valid rows of ``df`` now stored.

        Raises
        ------
        DataError
            Bad symbol, missing column, or failed write verification.
        """
        path = self.funding_path(symbol)
        checked = validate_funding(df)
        if checked.valid.empty:
            return 0
        with self._lock:
            stored = self._load(path, FUNDING_COLUMNS)
            merged = self._merge(stored, checked.valid, validate_funding)
            self._write_frame(path, merged)
        return len(checked.valid)

    def read_funding(
        self, symbol: str, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
    ) -> pd.DataFrame:
        """Funding events with settlement time in ``[start, end)``.

        Returns
        -------
        pandas.DataFrame
            Shape ``(n, 2)``: ``timestamp`` (``datetime64[ns, UTC]``), ``rate`` (fraction);
            empty (same columns and dtypes) if nothing is stored.
        """
        frame = self._load(self.funding_path(symbol), FUNDING_COLUMNS)
        if frame is None:
            return pd.DataFrame(
                {
                    "timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
                    "rate": pd.Series([], dtype="float64"),
                }
            )
        return _slice(frame, _utc(start, "start"), _utc(end, "end"))


def _slice(
    frame: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> pd.DataFrame:
    """Rows of a sorted frame with ``start <= timestamp < end`` (copy, fresh index)."""
    stamps = frame["timestamp"]
    lo = 0 if start is None else int(stamps.searchsorted(start, side="left"))
    hi = len(frame) if end is None else int(stamps.searchsorted(end, side="left"))
    return frame.iloc[lo : max(lo, hi)].reset_index(drop=True)
