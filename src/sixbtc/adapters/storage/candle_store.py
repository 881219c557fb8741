"""Parquet candle store: one file per symbol and timeframe (SPEC §3.1, ARCHITECTURE §2).

Layout under ``root``::

    {SYMBOL}_{TF}.parquet      candles (candle frame contract of sixbtc.domain.candles)
    {SYMBOL}_{TF}.meta.json    sidecar: symbol, timeframe, first, last (ISO 8601 UTC), rows,
                               is_full_history, updated_at
    {SYMBOL}_funding.parquet   funding events (timestamp, rate)
    open_interest/{SYMBOL}.parquet  open-interest readings (timestamp, value; see
                               :mod:`~sixbtc.adapters.storage.open_interest_files`)
    quarantine/                rows found invalid when reading

Writes validate the batch (with the store clock's ``now``: no future or still-forming candle
is stored), merge with the stored rows (new rows win on equal timestamps), re-validate the
merged frame, and are atomic (:func:`~sixbtc.adapters.storage.candle_files.atomic_write`);
the read-merge-write holds the store's lock file (``.lock``), so concurrent writers from other
processes never lose each other's rows.

Reads validate too, quarantine invalid rows and repair the file, through a small LRU cache
(:mod:`sixbtc.adapters.storage.candle_reader`): nothing invalid reaches a backtest.

A sidecar that cannot be parsed or is malformed is rebuilt from the Parquet file the first
time it is read (one warning; ``is_full_history`` is kept if readable, else reset to false,
which only costs one empty backfill request); a stale one (rows / first / last differ from the
file) is rewritten quietly.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sixbtc.adapters.storage.candle_files import (
    SYMBOL_RE,
    check_symbol,
    check_timeframe,
    full_history_flag,
    known_gap_list,
    read_sidecar,
    sidecar_lost_rows,
    sidecar_matches,
    slice_frame,
    utc_bound,
    write_parquet,
    write_sidecar,
)
from sixbtc.adapters.storage.candle_reader import (
    FUNDING,
    MIN_FILE_BYTES,
    ValidatedFrames,
    Validator,
    file_key,
)
from sixbtc.adapters.storage.open_interest_files import OpenInterestFiles
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.core.errors import DataError
from sixbtc.data.ports import StoreEntry
from sixbtc.domain.candles import FUNDING_COLUMNS, OHLCV_COLUMNS
from sixbtc.domain.timeframe import Timeframe

__all__ = ["MIN_FILE_BYTES", "ParquetCandleStore", "check_symbol", "check_timeframe"]

log = logging.getLogger(__name__)


class ParquetCandleStore:
    """Candle and funding store on local Parquet files; implements ``CandleStore``.

    Parameters
    ----------
    root : pathlib.Path
        Directory of the store (created if missing), e.g. ``data/binance``.
    cache_size : int
        Number of whole series kept in the in-process read cache (0 disables it).
    clock : Clock or None
        Source of ``now`` for the future / still-forming candle rules on write and read
        (default: the wall clock; tests inject a ``SimClock``).

    Raises
    ------
    DataError
        If ``root`` exists and is not a directory or cannot be created, or ``cache_size`` is
        negative.
    """

    def __init__(self, root: Path, cache_size: int = 32, clock: Clock | None = None) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise DataError(f"candle store root {self.root} is not a directory")
        if cache_size < 0:
            raise DataError(f"cache_size must be >= 0, got {cache_size}")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot create the candle store {self.root}: {exc.strerror or exc}") from exc
        self._files = ValidatedFrames(self.root, cache_size, clock or LiveClock(), self._repaired)
        self._lock = self._files.lock
        self._load = self._files.load
        self._validator = self._files.validator
        self._warn_once = self._files.warn_once
        self.open_interest = OpenInterestFiles(self.root, self._lock, clock or LiveClock())
        self.write_open_interest = self.open_interest.write_open_interest  # OpenInterestStore
        self.read_open_interest = self.open_interest.read_open_interest  # feeds the open_interest input

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
    def _repaired(self, path: Path, valid: pd.DataFrame) -> None:
        """After the reader repaired a candle file: rewrite (or drop) its sidecar."""
        symbol, _, kind = path.stem.rpartition("_")
        if kind == FUNDING:
            return
        if valid.empty:
            self.meta_path(symbol, kind).unlink(missing_ok=True)
        else:
            self._write_meta(symbol, kind, valid, self._full_history(symbol, kind))

    def _merge(
        self, stored: pd.DataFrame | None, batch: pd.DataFrame, validate: Validator
    ) -> pd.DataFrame:
        if stored is None or stored.empty:
            return batch
        merged = pd.concat([stored, batch], ignore_index=True)
        merged = merged.drop_duplicates("timestamp", keep="last")
        result = validate(merged)
        if result.rejected:  # pragma: no cover - both inputs were validated
            raise DataError(f"merged series failed validation: {result.reasons}")
        return result.valid

    def _checked_batch(self, what: str, df: pd.DataFrame, validate: Validator) -> pd.DataFrame:
        checked = validate(df)
        if checked.rejected:
            log.warning(
                "candle store: %s: %d of %d rows of the batch rejected (%s); e.g. %s",
                what, checked.rejected, len(df), checked.reasons, checked.examples[:2],
            )
        return checked.valid

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
            Invalid rows (also future or still-forming candles, by the store's clock) are
            dropped (logged), never stored.
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
        validate = self._validator(path)
        valid = self._checked_batch(f"{symbol} {tf}", df, validate)
        if valid.empty:
            return 0
        with self._lock:
            stored = self._load(path, OHLCV_COLUMNS)
            merged = self._merge(stored, valid, validate)
            write_parquet(path, merged)
            full = is_full_history if is_full_history is not None else self._full_history(symbol, tf)
            self._write_meta(symbol, tf, merged, full)
        return len(valid)

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
            A copy, shape ``(n, 6)``, candle frame contract (validated on read: see the
            module docstring).

        Raises
        ------
        DataError
            If no readable file is stored for the series, or a bound is not a timestamp.
        """
        path = self.candle_path(symbol, timeframe)
        frame = self._load(path, OHLCV_COLUMNS)
        if frame is None:
            raise DataError(f"no candles stored for {symbol} {timeframe} (expected {path})")
        return slice_frame(frame, utc_bound(start, "start"), utc_bound(end, "end"))

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
        meta = self._sidecar(symbol, tf, frame)
        if meta is None:  # the file lost candles its sidecar recorded: quarantined
            return None
        return StoreEntry(
            symbol=symbol,
            timeframe=tf,
            first=frame["timestamp"].iloc[0],
            last=frame["timestamp"].iloc[-1],
            rows=len(frame),
            is_full_history=meta["is_full_history"],
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
            if SYMBOL_RE.match(symbol) and tf in {t.value for t in Timeframe}:
                found.append((symbol, tf))
        return found

    # ----------------------------------------------------------------- meta
    def _full_history(self, symbol: str, timeframe: str) -> bool:
        """The sidecar's ``is_full_history`` if it can be read, else False."""
        return full_history_flag(read_sidecar(self.meta_path(symbol, timeframe), symbol, timeframe)[0])

    def _sidecar(self, symbol: str, timeframe: str, frame: pd.DataFrame) -> dict | None:
        """The sidecar of a stored series, rebuilt from ``frame`` if corrupt or stale; None
        when the file holds less than its sidecar records (then it was quarantined)."""
        path = self.meta_path(symbol, timeframe)
        meta, problem = read_sidecar(path, symbol, timeframe)
        if meta is not None and problem is None and sidecar_matches(meta, frame):
            return meta
        if meta is not None and problem is None and sidecar_lost_rows(meta, frame) and self._quarantine_shrunk(
                symbol, timeframe):
            return None
        full = full_history_flag(meta)
        if problem is not None:
            self._warn_once(
                path, "sidecar", "candle store: sidecar %s is corrupt (%s); rebuilt from %s "
                "(is_full_history=%s)", path, problem, self.candle_path(symbol, timeframe).name,
                str(full).lower(),
            )
        return self._write_meta(symbol, timeframe, frame, full)

    def _quarantine_shrunk(self, symbol: str, timeframe: str) -> bool:
        """Under the lock, re-check that the candle file holds less than its sidecar records
        (a truncated or replaced file; a crash between the file and sidecar writes only ever
        leaves a file *longer* than its sidecar) and quarantine it; True if quarantined."""
        path = self.candle_path(symbol, timeframe)
        with self._lock:
            fresh = self._load(path, OHLCV_COLUMNS)
            meta, problem = read_sidecar(self.meta_path(symbol, timeframe), symbol, timeframe)
            if fresh is None or fresh.empty or meta is None or problem or not sidecar_lost_rows(meta, fresh):
                return False
            why = (f"holds {len(fresh)} candles {fresh['timestamp'].iloc[0]} .. {fresh['timestamp'].iloc[-1]}, "
                   f"its sidecar records {meta['rows']} from {meta['first']} to {meta['last']}")
            self._files.heal(path, file_key(path), OHLCV_COLUMNS, why)
            return not path.exists()

    def _write_meta(self, symbol: str, timeframe: str, frame: pd.DataFrame, full: bool,
                    known: list[tuple[pd.Timestamp, pd.Timestamp]] | None = None) -> dict:
        path = self.meta_path(symbol, timeframe)
        if known is None:
            known = self.known_gaps(symbol, timeframe)
        try:
            return write_sidecar(path, symbol, timeframe, frame, full, known)
        except OSError as exc:
            self._warn_once(path, "sidecar-write", "candle store: cannot write %s: %s", path, exc)
            return {"is_full_history": full}

    # ----------------------------------------------------------- known gaps
    def known_gaps(self, symbol: str, timeframe: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        """Known venue gaps ``[start, end)`` of the series, from its sidecar (empty if none)."""
        meta, _ = read_sidecar(self.meta_path(symbol, timeframe), symbol, check_timeframe(timeframe))
        return known_gap_list(meta)

    def add_known_gaps(self, symbol: str, timeframe: str, ranges: list[tuple[pd.Timestamp, pd.Timestamp]]) -> None:
        """Record venue gaps ``[start, end)`` in the sidecar (merged with the known ones).

        Raises
        ------
        DataError
            If the series is not stored.
        """
        tf = check_timeframe(timeframe)
        with self._lock:
            frame = self._load(self.candle_path(symbol, tf), OHLCV_COLUMNS)
            if frame is None or frame.empty:
                raise DataError(f"no candles stored for {symbol} {tf}: cannot record known gaps")
            known = sorted(set(self.known_gaps(symbol, tf)) | {(utc_bound(lo, "start"), utc_bound(hi, "end"))
                                                                for lo, hi in ranges})
            self._write_meta(symbol, tf, frame, self._full_history(symbol, tf), known)

    # -------------------------------------------------------------- funding
    def write_funding(self, symbol: str, df: pd.DataFrame) -> int:
        """Validate funding events and merge them into ``{SYMBOL}_funding.parquet``.

        Parameters
        ----------
        symbol : str
            Base asset.
        df : pandas.DataFrame
            Columns ``timestamp`` (settlement time) and ``rate`` (fraction per interval);
            see :func:`sixbtc.data.validation.validate_funding` (range, future, duplicates).

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
        validate = self._validator(path)
        valid = self._checked_batch(f"{symbol} funding", df, validate)
        if valid.empty:
            return 0
        with self._lock:
            stored = self._load(path, FUNDING_COLUMNS)
            merged = self._merge(stored, valid, validate)
            write_parquet(path, merged)
        return len(valid)

    def read_funding(
        self, symbol: str, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
    ) -> pd.DataFrame:
        """Funding events with settlement time in ``[start, end)`` (validated on read).

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
        return slice_frame(frame, utc_bound(start, "start"), utc_bound(end, "end"))

