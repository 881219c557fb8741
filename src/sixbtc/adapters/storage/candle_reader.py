"""Validated, cached reads of the candle store's Parquet files, with quarantine and repair.

Nothing invalid reaches a backtest, even if a file was edited by hand or written by an older
version: on a cache miss, the frame read goes through the same rules as a write
(:mod:`sixbtc.data.validation`, with the store clock's ``now``).

* Invalid rows (NaN, negative or inconsistent prices, off-grid, conflicting duplicates, dated
  after now or before 2009) are **quarantined and the file repaired**: the bad rows go to
  ``quarantine/{stem}.{time}.{pid}.parquet`` with a ``reason`` column, the file is rewritten
  with the valid rows (sorted, unique, in the frame contract), the caller's ``on_repair`` hook
  runs (the store rewrites the sidecar) and one warning names the file, the counts per reason
  and the quarantine file. Rows that were only out of order are re-sorted, with a warning.
* If the repair cannot be written (read-only store), the valid rows are used in memory and one
  warning per file says so.
* Auto-heal: an entry that is not a regular file, a file under :data:`MIN_FILE_BYTES`, not
  parseable as Parquet, or without the required columns is moved to
  ``quarantine/{name}.{time}.{pid}.corrupt`` (one warning), its sidecar is deleted and the
  series is treated as absent; if it cannot be moved (read-only store) it is left in place and
  ignored, with one warning per file. An I/O error (permissions, failing disk) raises
  ``DataError`` and leaves the file alone.
* Repairs and quarantines run under the store's :class:`StoreLock` and only if the file is
  still the one that was read (same mtime and size): a file another process wrote meanwhile is
  read again, never overwritten or moved.

Frames are cached in an in-process LRU keyed by (path, mtime_ns, size).
"""

from __future__ import annotations

import logging
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pandas as pd
import pyarrow as pa

from sixbtc.adapters.storage.candle_files import (
    StoreLock,
    quarantine_file,
    write_parquet,
    write_quarantine,
)
from sixbtc.core.clock import Clock
from sixbtc.core.errors import DataError
from sixbtc.data.validation import CandleValidation, validate_candles, validate_funding

log = logging.getLogger("sixbtc.adapters.storage.candle_store")

MIN_FILE_BYTES = 12
"""Parquet files shorter than this (magic + footer length) are corrupt and get deleted."""

FUNDING = "funding"
Validator = Callable[[pd.DataFrame], CandleValidation]
FileKey = tuple[str, int, int]
"""(path, mtime_ns, size): which version of a file a frame was read from."""


def file_key(path: Path) -> FileKey | None:
    """The :data:`FileKey` of ``path`` now, or None if it does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (str(path), st.st_mtime_ns, st.st_size)


class ValidatedFrames:
    """Load whole stored frames, validated, cached and repaired (see the module docstring).

    Parameters
    ----------
    root : pathlib.Path
        Store directory (the quarantine folder is created inside it).
    cache_size : int
        Number of frames kept in the LRU cache (0 disables it).
    clock : Clock
        Source of ``now`` for the time rules.
    on_repair : callable
        ``on_repair(path, valid_frame)`` after ``path`` was rewritten (or deleted when no row
        was valid: ``valid_frame`` is then empty).

    Attributes
    ----------
    lock : StoreLock
        The store's write lock (writers hold it around read-merge-write).
    """

    def __init__(
        self,
        root: Path,
        cache_size: int,
        clock: Clock,
        on_repair: Callable[[Path, pd.DataFrame], None],
    ) -> None:
        self.root, self.clock, self.lock = root, clock, StoreLock(root)
        self._cache_size, self._on_repair = cache_size, on_repair
        self._cache_lock = threading.Lock()
        self._cache: OrderedDict[FileKey, pd.DataFrame] = OrderedDict()
        self._warned: set[tuple[str, str]] = set()

    def validator(self, path: Path) -> Validator:
        """The rules of the file at ``path``: candles of its timeframe, or funding."""
        kind = path.stem.rpartition("_")[2]
        if kind == FUNDING:
            return lambda f: validate_funding(f, now=self.clock.now())
        return lambda f: validate_candles(f, kind, now=self.clock.now())

    def warn_once(self, path: Path, what: str, message: str, *args: object) -> None:
        """``log.warning`` unless this (path, what) was already reported by this process."""
        if (str(path), what) not in self._warned:
            self._warned.add((str(path), what))
            log.warning(message, *args)

    def heal(self, path: Path, key: FileKey, columns: tuple[str, ...], why: str) -> pd.DataFrame | None:
        """Quarantine an unreadable entry (and delete its sidecar); it is then treated as
        absent. If another process replaced it since it was read, read the new file instead."""
        with self.lock:
            if file_key(path) != key:
                return self.load(path, columns)
            try:
                where = quarantine_file(self.root, path)
            except OSError as exc:
                self.warn_once(path, "heal", "candle store: %s is corrupt (%s) and cannot be moved "
                               "to quarantine (%s); the series is treated as absent", path, why, exc)
                return None
            log.warning("candle store: %s is corrupt (%s); moved to %s, the series is treated "
                        "as absent", path, why, where)
            if path.name.endswith(".parquet"):
                with suppress(OSError):
                    path.with_name(path.name[: -len(".parquet")] + ".meta.json").unlink(missing_ok=True)
        with self._cache_lock:
            for k in [k for k in self._cache if k[0] == str(path)]:
                del self._cache[k]
        return None

    def load(self, path: Path, columns: tuple[str, ...]) -> pd.DataFrame | None:
        """Whole stored, validated frame (shared cached object: never mutate) or None.

        Raises
        ------
        DataError
            If the file exists but cannot be read (I/O error); the file is kept.
        """
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
        key = (str(path), st.st_mtime_ns, st.st_size)
        if not stat.S_ISREG(st.st_mode):
            return self.heal(path, key, columns, "not a regular file")
        if st.st_size < MIN_FILE_BYTES:
            return self.heal(path, key, columns, f"only {st.st_size} bytes")
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        try:
            frame = pd.read_parquet(path)
        except (pa.ArrowException, ValueError) as exc:  # corrupt content (not an I/O fault)
            return self.heal(path, key, columns, f"not a Parquet file: {exc}")
        except OSError as exc:  # e.g. permissions or a failing disk: keep the file
            raise DataError(f"cannot read {path}: {exc}") from exc
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            return self.heal(path, key, columns, f"missing columns {missing}")
        frame = self._checked(path, key, columns, frame[list(columns)])
        if self._cache_size:
            with self._cache_lock:
                self._cache[key] = frame
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return frame

    def _checked(self, path: Path, key: FileKey, columns: tuple[str, ...], frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` if it passes validation, else its valid rows, the file being repaired
        (unless another process replaced it since it was read: then the new file is read)."""
        checked = self.validator(path)(frame)
        if not checked.rejected and checked.valid.equals(frame):
            return frame
        try:
            with self.lock:
                if file_key(path) != key:
                    return self.load(path, columns) if file_key(path) else checked.valid
                where = self._repair(path, checked)
        except (OSError, DataError) as exc:
            self.warn_once(
                path, "repair", "candle store: %s is invalid (%s) and cannot be repaired (%s); "
                "using its %d valid rows", path.name, _counts(checked), exc, len(checked.valid),
            )
            return checked.valid
        if checked.rejected or not frame["timestamp"].is_monotonic_increasing:
            log.warning(
                "candle store: %s: %d invalid rows (%s) moved to %s; the file now holds %d "
                "valid rows in time order", path.name, checked.rejected, _counts(checked),
                where or "nowhere (rows only re-sorted)", len(checked.valid),
            )
        else:
            log.info("candle store: %s rewritten in the frame contract (dtypes)", path.name)
        return checked.valid

    def _repair(self, path: Path, checked: CandleValidation) -> Path | None:
        """Quarantine the rejected rows and rewrite (or delete) ``path``; run ``on_repair``."""
        rows = checked.rejected_rows
        where = write_quarantine(self.root, path, rows) if checked.rejected else None
        if checked.valid.empty:
            path.unlink(missing_ok=True)
        else:
            write_parquet(path, checked.valid)
        self._on_repair(path, checked.valid)
        return where


def _counts(checked: CandleValidation) -> str:
    return ", ".join(f"{k}: {v}" for k, v in checked.reasons.items()) or "rows out of order"
