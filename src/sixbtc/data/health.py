"""Health checks of one stored file, as ``sixbtc data verify`` reports them (SPEC §3.1 ``--verify``).

Pure rules on a frame read **as stored** (before the store's read-side repair), so that verify
reports what is on disk:

* schema: the contract columns with their dtypes (``timestamp`` ``datetime64[ns, UTC]``, the
  others ``float64``; funding ``timestamp``, ``rate``);
* order: timestamps strictly ascending (no duplicate);
* grid: every open time a multiple of the timeframe;
* rows: every row passes :mod:`sixbtc.data.validation` (finite, positive, consistent, not in
  the future, no still-forming candle);
* gaps: runs of missing candles not recorded as known venue gaps;
* metadata: the sidecar is readable and describes the file (rows, first, last).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from sixbtc.data.gaps import Gap, detect_gaps
from sixbtc.data.validation import validate_candles, validate_funding
from sixbtc.domain.candles import FUNDING_COLUMNS, OHLCV_COLUMNS
from sixbtc.domain.timeframe import Timeframe

UTC_NS = "datetime64[ns, UTC]"


@dataclass(frozen=True)
class FileCheck:
    """What verify found in one stored file.

    Attributes
    ----------
    file : str
        File name inside the store (``"BTC_1h.parquet"``).
    symbol, timeframe : str
        Series identity (``timeframe`` is ``"funding"`` for funding files, ``"?"`` if unknown).
    rows : int
        Rows in the file (0 if unreadable).
    first, last : pandas.Timestamp or None
        First and last timestamp.
    gaps : int
        Gaps not known as venue gaps (each a problem).
    missing_bars : int
        Candles missing in those gaps.
    known_gaps : int
        Gaps recorded as known venue gaps (not a problem).
    problems : list of str
        Everything wrong, one readable line each; empty when healthy.
    """

    file: str
    symbol: str
    timeframe: str
    rows: int = 0
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    gaps: int = 0
    missing_bars: int = 0
    known_gaps: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def schema_problems(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[str]:
    """Missing columns and wrong dtypes of a stored frame (``columns``: the contract's)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        return [f"schema: missing columns {missing}"]
    out = []
    if str(frame["timestamp"].dtype) != UTC_NS:
        out.append(f"schema: timestamp is {frame['timestamp'].dtype}, not {UTC_NS}")
    out += [f"schema: {c} is {frame[c].dtype}, not float64" for c in columns[1:] if frame[c].dtype != np.float64]
    return out


def _order_problems(ts: pd.Series) -> list[str]:
    values = pd.to_datetime(ts, utc=True)
    if values.is_monotonic_increasing and values.is_unique:
        return []
    dup = int(values.duplicated().sum())
    return [f"order: timestamps not strictly ascending ({dup} duplicates)"]


def check_candles(name: str, symbol: str, timeframe: str, frame: pd.DataFrame, *, now: datetime,
                  known: list[tuple[pd.Timestamp, pd.Timestamp]]) -> FileCheck:
    """All rules of the module docstring except metadata, on a candle file read as stored."""
    problems = schema_problems(frame, OHLCV_COLUMNS)
    if problems and problems[0].startswith("schema: missing"):
        return FileCheck(name, symbol, timeframe, len(frame), problems=problems)
    problems += _order_problems(frame["timestamp"])
    tf_ms = Timeframe.parse(timeframe).ms
    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    off_grid = int(((stamps.astype("int64") // 1_000_000) % tf_ms != 0).sum())
    if off_grid:
        problems.append(f"grid: {off_grid} timestamps off the {timeframe} grid")
    checked = validate_candles(frame, timeframe, now=now)
    other = {k: v for k, v in checked.reasons.items() if k not in ("off_grid",)}
    if other:
        problems.append("rows: " + ", ".join(f"{k}: {v}" for k, v in other.items()))
    gaps: list[Gap] = detect_gaps(checked.valid, timeframe)
    unknown = [g for g in gaps if not g.covered_by(known)]
    if unknown:
        problems.append(f"gaps: {len(unknown)} unknown ({sum(g.bars for g in unknown)} bars), first "
                        f"{unknown[0].start:%Y-%m-%d %H:%M} .. {unknown[0].end:%Y-%m-%d %H:%M}; run `sixbtc data fill-gaps`")
    return FileCheck(name, symbol, timeframe, len(frame), stamps.min() if len(frame) else None,
                     stamps.max() if len(frame) else None, len(unknown), sum(g.bars for g in unknown),
                     len(gaps) - len(unknown), problems)


def check_funding(name: str, symbol: str, frame: pd.DataFrame, *, now: datetime) -> FileCheck:
    """Schema, order and row rules on a funding file read as stored."""
    problems = schema_problems(frame, FUNDING_COLUMNS)
    if problems and problems[0].startswith("schema: missing"):
        return FileCheck(name, symbol, "funding", len(frame), problems=problems)
    problems += _order_problems(frame["timestamp"])
    checked = validate_funding(frame, now=now)
    if checked.rejected:
        problems.append("rows: " + ", ".join(f"{k}: {v}" for k, v in checked.reasons.items()))
    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    return FileCheck(name, symbol, "funding", len(frame), stamps.min() if len(frame) else None,
                     stamps.max() if len(frame) else None, problems=problems)


def sidecar_consistency(meta: dict | None, problem: str | None, check: FileCheck) -> list[str]:
    """Metadata problems of a candle file: missing / malformed sidecar, or one that does not
    describe the file (rows, first, last)."""
    if meta is None and problem is None:
        return ["metadata: no .meta.json sidecar"]
    if problem is not None:
        return [f"metadata: sidecar {problem}"]
    assert meta is not None
    diffs = []
    if meta["rows"] != check.rows:
        diffs.append(f"rows {meta['rows']} vs {check.rows}")
    for key, actual in (("first", check.first), ("last", check.last)):
        if actual is not None and pd.Timestamp(meta[key]) != actual:
            diffs.append(f"{key} {meta[key]} vs {actual.isoformat()}")
    return [f"metadata: sidecar does not match the file ({'; '.join(diffs)})"] if diffs else []
