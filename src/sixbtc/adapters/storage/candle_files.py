"""File plumbing of the Parquet candle store: names, atomic writes, the write lock, sidecars,
quarantine.

* :func:`atomic_write`: temp file in the same directory, fsync, verify, ``os.replace``, fsync
  of the directory: a reader sees the old file or the new one, never half of one.
* :class:`StoreLock`: an exclusive lock on ``{root}/.lock`` (``flock``) held around every
  read-merge-write, repair and quarantine, so that two processes (the service downloading,
  ``sixbtc data import``) never lose each other's rows.
* Sidecars ``{SYMBOL}_{TF}.meta.json``: :func:`read_sidecar` / :func:`write_sidecar`;
  :func:`sidecar_problem` says what is wrong with one.
* Quarantine: rows found invalid when a stored file is read are moved to
  ``{root}/quarantine/{file stem}.{UTC time}.{pid}.parquet`` with a ``reason`` column, and a
  file that cannot be read at all to ``{root}/quarantine/{file name}.{UTC time}.{pid}.corrupt``,
  so nothing is lost and nothing invalid is used.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sixbtc.core.errors import DataError
from sixbtc.domain.timeframe import Timeframe

SYMBOL_RE = re.compile(r"^[A-Z0-9]{1,30}$")
QUARANTINE_DIR = "quarantine"
SIDECAR_KEYS = ("symbol", "timeframe", "first", "last", "rows", "is_full_history")
LOCK_FILE = ".lock"


class StoreLock:
    """Exclusive, re-entrant lock of one store, across threads and processes.

    A thread-level ``RLock`` plus ``flock`` on ``{root}/.lock`` taken by the outermost
    acquisition. Where the lock file cannot be created (a read-only store) only the thread
    lock is taken: nothing can be written there anyway.

    Parameters
    ----------
    root : pathlib.Path
        Store directory.
    """

    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_FILE
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def __enter__(self) -> StoreLock:
        self._thread_lock.acquire()
        if self._depth == 0:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                self._fd = None
            else:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._depth += 1
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
        self._thread_lock.release()


def check_symbol(symbol: str) -> str:
    """Return ``symbol`` if it is a base asset name (``A-Z0-9``, 1–30 chars), else raise.

    Raises
    ------
    DataError
        If ``symbol`` is not an upper-case alphanumeric base asset such as ``"BTC"`` or
        ``"1000PEPE"`` (this also keeps file names inside the store root).
    """
    if not isinstance(symbol, str) or not SYMBOL_RE.match(symbol):
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


def fsync_dir(directory: Path) -> None:
    """fsync a directory so a rename in it survives a power cut (no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path, write: Callable[[object], None], verify: Callable[[Path], None]
) -> None:
    """Write via ``write(fileobj)`` to a temp file next to ``path``, verify, then replace.

    Raises
    ------
    OSError, DataError
        Whatever ``write`` / ``verify`` raise; ``path`` is then unchanged and no temp file is left.
    """
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
    fsync_dir(path.parent)


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Atomically write ``frame`` (zstd), verified by reading the timestamps back.

    Raises
    ------
    DataError
        If the written file does not read back identically (the old file is kept).
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)

    def verify(tmp: Path) -> None:
        try:
            back = pd.read_parquet(tmp)
        except Exception as exc:  # noqa: BLE001 - any failure means the write is bad
            raise DataError(f"verification of {path.name} failed: {exc}") from exc
        if len(back) != len(frame) or not back["timestamp"].equals(frame["timestamp"]):
            raise DataError(f"verification of {path.name} failed: read-back differs")

    atomic_write(path, lambda handle: pq.write_table(table, handle, compression="zstd"), verify)


def _quarantine_target(root: Path, name: str, suffix: str) -> Path:
    """``root/quarantine/{name}.{UTC time}.{pid}{suffix}`` (the folder is created)."""
    folder = root / QUARANTINE_DIR
    folder.mkdir(exist_ok=True)
    return folder / f"{name}.{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}.{os.getpid()}{suffix}"


def write_quarantine(root: Path, source: Path, rows: pd.DataFrame) -> Path:
    """Save ``rows`` (with their ``reason`` column) under ``root/quarantine``; return the path.

    Raises
    ------
    OSError
        If the quarantine folder or file cannot be written.
    """
    target = _quarantine_target(root, source.stem, ".parquet")
    rows.to_parquet(target, index=False)
    return target


def quarantine_file(root: Path, source: Path) -> Path:
    """Move a whole unreadable store file (or folder) to ``root/quarantine``; return where.

    Raises
    ------
    OSError
        If the quarantine folder cannot be created or the entry cannot be moved (it is then
        left where it is).
    """
    target = _quarantine_target(root, source.name, ".corrupt")
    os.replace(source, target)
    return target


def sidecar_problem(meta: object, symbol: str, timeframe: str) -> str | None:
    """What makes a parsed sidecar unusable, or None if it is well formed.

    A sidecar is a JSON object with :data:`SIDECAR_KEYS`, naming ``symbol`` and ``timeframe``,
    ``rows`` an int, ``first`` / ``last`` ISO timestamps and ``is_full_history`` a bool.
    """
    if not isinstance(meta, dict):
        return f"expected a JSON object, found {type(meta).__name__}"
    missing = [k for k in SIDECAR_KEYS if k not in meta]
    if missing:
        return f"missing keys {missing}"
    if meta["symbol"] != symbol or meta["timeframe"] != timeframe:
        return f"names {meta['symbol']!r} {meta['timeframe']!r}, not {symbol} {timeframe}"
    if not isinstance(meta["is_full_history"], bool):
        return f"is_full_history is {meta['is_full_history']!r}, not true/false"
    if not isinstance(meta["rows"], int) or isinstance(meta["rows"], bool):
        return f"rows is {meta['rows']!r}, not an integer"
    for key in ("first", "last"):
        try:
            pd.Timestamp(meta[key])
        except (TypeError, ValueError):
            return f"{key} is {meta[key]!r}, not a timestamp"
    return None


def sidecar_matches(meta: dict, frame: pd.DataFrame) -> bool:
    """True if a well-formed sidecar describes ``frame`` (rows, first and last open time)."""
    return (
        meta["rows"] == len(frame)
        and pd.Timestamp(meta["first"]) == frame["timestamp"].iloc[0]
        and pd.Timestamp(meta["last"]) == frame["timestamp"].iloc[-1]
    )


def sidecar_lost_rows(meta: dict, frame: pd.DataFrame) -> bool:
    """True if ``frame`` holds less than a well-formed sidecar records: fewer rows, or a later
    first / earlier last open time (the file was truncated or replaced by an older one)."""
    if frame.empty:
        return meta["rows"] > 0
    return (
        meta["rows"] > len(frame)
        or pd.Timestamp(meta["first"]) < frame["timestamp"].iloc[0]
        or pd.Timestamp(meta["last"]) > frame["timestamp"].iloc[-1]
    )


def read_sidecar(path: Path, symbol: str, timeframe: str) -> tuple[dict | None, str | None]:
    """Read a sidecar: ``(meta, None)`` if well formed, ``(None, None)`` if absent, else
    ``(parsed JSON or None, what is wrong)``."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, None
    except PermissionError as exc:
        return None, f"unreadable: {exc}"
    except (OSError, ValueError) as exc:
        return None, f"not valid JSON: {exc}"
    problem = sidecar_problem(meta, symbol, timeframe)
    return (meta if isinstance(meta, dict) else None), problem


def full_history_flag(meta: dict | None) -> bool:
    """``is_full_history`` of a (possibly malformed) sidecar if it is a bool, else False."""
    flag = meta.get("is_full_history") if isinstance(meta, dict) else None
    return flag if isinstance(flag, bool) else False


def known_gap_list(meta: dict | None) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The ``known_gaps`` of a sidecar as ``[(start, end), ...]`` UTC; malformed entries are dropped."""
    raw = meta.get("known_gaps") if isinstance(meta, dict) else None
    out = []
    for item in raw if isinstance(raw, list) else []:
        try:
            lo, hi = (pd.Timestamp(v) for v in item)
        except (TypeError, ValueError):
            continue
        if lo.tzinfo is not None and hi.tzinfo is not None and lo < hi:
            out.append((lo.tz_convert("UTC"), hi.tz_convert("UTC")))
    return sorted(set(out))


def write_sidecar(
    path: Path, symbol: str, timeframe: str, frame: pd.DataFrame, full: bool,
    known_gaps: list[tuple[pd.Timestamp, pd.Timestamp]] | None = None,
) -> dict:
    """Atomically write the sidecar describing ``frame``; return its content.

    ``known_gaps`` are venue gaps ``[start, end)`` recorded by ``fill_gaps`` (kept as ISO pairs).

    Raises
    ------
    OSError
        If it cannot be written.
    """
    meta = {
        "symbol": symbol,
        "timeframe": timeframe,
        "first": frame["timestamp"].iloc[0].isoformat(),
        "last": frame["timestamp"].iloc[-1].isoformat(),
        "rows": len(frame),
        "is_full_history": full,
        "known_gaps": [[lo.isoformat(), hi.isoformat()] for lo, hi in sorted(known_gaps or [])],
        "updated_at": datetime.now(UTC).isoformat(),
    }
    data = json.dumps(meta, indent=2).encode("utf-8")
    atomic_write(path, lambda h: h.write(data), lambda tmp: json.loads(tmp.read_text("utf-8")))
    return meta


def utc_bound(ts: pd.Timestamp | None, name: str) -> pd.Timestamp | None:
    """A read bound as a UTC Timestamp (naive = UTC), None kept.

    Raises
    ------
    DataError
        If ``ts`` is not a timestamp (the message names the bound).
    """
    if ts is None:
        return None
    try:
        stamp = pd.Timestamp(ts)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} is not a timestamp: {ts!r}") from exc
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def slice_frame(
    frame: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> pd.DataFrame:
    """Rows of a sorted frame with ``start <= timestamp < end`` (copy, fresh index)."""
    stamps = frame["timestamp"]
    lo = 0 if start is None else int(stamps.searchsorted(start, side="left"))
    hi = len(frame) if end is None else int(stamps.searchsorted(end, side="left"))
    return frame.iloc[lo : max(lo, hi)].reset_index(drop=True)
