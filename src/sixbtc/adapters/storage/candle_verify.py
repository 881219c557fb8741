"""``verify`` of the Parquet candle store: every file checked as it is on disk, nothing changed.

Reads each ``{SYMBOL}_{TF}.parquet`` / ``{SYMBOL}_funding.parquet`` directly (not through the
store's repairing reader) and applies :mod:`sixbtc.data.health`; also reports unreadable
files, sidecars without a candle file, and names the store does not recognise. Leftover temp
files of an interrupted write (``.NAME.*.tmp``) are listed as notes, not problems (the old
file is intact; the next write removes nothing else).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa

from sixbtc.adapters.storage.candle_files import SYMBOL_RE, known_gap_list, read_sidecar
from sixbtc.adapters.storage.candle_reader import FUNDING, MIN_FILE_BYTES
from sixbtc.core.clock import Clock
from sixbtc.data.health import FileCheck, check_candles, check_funding, sidecar_consistency
from sixbtc.domain.timeframe import Timeframe

_TIMEFRAMES = {t.value for t in Timeframe}
_TMP = re.compile(r"^\..+\.tmp$")


def store_files(root: Path) -> list[Path]:
    """The entries verify looks at: Parquet files and sidecars of ``root`` (not ``quarantine/``), by name."""
    return sorted(p for p in root.iterdir() if p.name.endswith((".parquet", ".meta.json")))


def series_names(root: Path) -> list[tuple[str, str]]:
    """(symbol, timeframe) of every candle file name in ``root``, readable or not, sorted."""
    out = []
    for path in sorted(root.glob("*_*.parquet")):
        symbol, _, tf = path.stem.rpartition("_")
        if SYMBOL_RE.match(symbol) and tf in _TIMEFRAMES:
            out.append((symbol, tf))
    return out


def leftover_temp_files(root: Path) -> list[str]:
    """Names of temp files left by an interrupted atomic write."""
    return sorted(p.name for p in root.iterdir() if _TMP.match(p.name))


def verify_file(root: Path, path: Path, clock: Clock) -> FileCheck:
    """Check one store entry (see the module docstring); never raises for bad content."""
    name = path.name
    if name.endswith(".meta.json"):
        stem = name[: -len(".meta.json")]
        symbol, _, tf = stem.rpartition("_")
        if not (root / f"{stem}.parquet").exists():
            return FileCheck(name, symbol or "?", tf or "?", problems=["metadata: sidecar without a candle file"])
        return FileCheck(name, symbol, tf)
    symbol, _, kind = path.stem.rpartition("_")
    if not SYMBOL_RE.match(symbol) or (kind != FUNDING and kind not in _TIMEFRAMES):
        return FileCheck(name, symbol or "?", kind or "?", problems=["name: not {SYMBOL}_{TF}.parquet or {SYMBOL}_funding.parquet"])
    frame, why = _read(path)
    if frame is None:
        return FileCheck(name, symbol, kind, problems=[f"unreadable: {why}"])
    now = clock.now()
    if kind == FUNDING:
        return check_funding(name, symbol, frame, now=now)
    meta, problem = read_sidecar(root / f"{symbol}_{kind}.meta.json", symbol, kind)
    check = check_candles(name, symbol, kind, frame, now=now, known=known_gap_list(meta))
    check.problems.extend(sidecar_consistency(meta, problem, check))
    return check


def verify_store(root: Path, clock: Clock, progress: Callable[[str], None] | None = None) -> list[FileCheck]:
    """Check every store entry; one :class:`FileCheck` per file, by name (sidecars only when wrong).

    Parameters
    ----------
    root : pathlib.Path
        Store directory.
    clock : Clock
        ``now`` for the future / still-forming rules.
    progress : callable or None
        Called with each file name before it is checked (progress bars).
    """
    out = []
    for path in store_files(root):
        if progress is not None:
            progress(path.name)
        check = verify_file(root, path, clock)
        if path.name.endswith(".parquet") or check.problems:
            out.append(check)
    return out


def _read(path: Path) -> tuple[pd.DataFrame | None, str]:
    if not path.is_file():
        return None, "not a regular file"
    size = path.stat().st_size
    if size < MIN_FILE_BYTES:
        return None, f"only {size} bytes (truncated)"
    try:
        return pd.read_parquet(path), ""
    except (pa.ArrowException, ValueError, OSError) as exc:
        return None, f"not a Parquet file ({type(exc).__name__}: {str(exc)[:120]})"
