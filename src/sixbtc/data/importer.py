"""Import of local candle / funding files into the candle store (SPEC §3.1 "Import").

Which files are recognised and how they are read: :mod:`sixbtc.data.import_sources`. Every
batch goes through :mod:`sixbtc.data.validation` (with the injected clock's ``now``: future
and still-forming candles are rejected) and then the store; isolated one-bar spikes are
reported as warnings (:mod:`sixbtc.data.anomalies`) and stored.

Outcome per entry (:class:`ImportResult`):

* **imported**: at least one valid row stored (rejected rows are counted with reasons);
* **failed** (``error`` set): the file cannot be read, has no rows, or every row was
  rejected; also any problem with a file named explicitly (``import_path(file)``): an
  unrecognised name or unknown timeframe there is an error, not a skip;
* **skipped** (``skip_reason`` set): in a folder scan, an entry that is not a data file (other
  suffix, sub-folder, unrecognised name, unsupported timeframe), or a file excluded by the
  ``symbols`` / ``timeframes`` filters.

A bad file never aborts the other files. :func:`summarise` adds the results up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sixbtc.core.clock import Clock, LiveClock
from sixbtc.core.errors import DataError
from sixbtc.data.anomalies import validate_and_screen
from sixbtc.data.import_sources import (
    FUNDING,
    Candidate,
    ImportSource,
    candidates,
    classify,
    read_source,
)
from sixbtc.data.ports import CandleStore
from sixbtc.data.validation import CandleValidation, validate_funding

__all__ = ["FUNDING", "ImportResult", "ImportSummary", "classify", "import_path", "summarise"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportResult:
    """Outcome of importing one file (or of meeting one non-data entry in a folder).

    Attributes
    ----------
    file : pathlib.Path
        The entry.
    symbol : str or None
        Base asset (``"BTC"``), None if the name was not recognised.
    timeframe : str or None
        Timeframe value, ``"funding"`` for funding files, None if not recognised.
    stored : int
        Valid rows of the file written to the store.
    rejected : int
        Rows rejected by validation.
    reasons : dict[str, int]
        Rejection reason -> count (see :data:`sixbtc.data.validation.REASON_TEXT`).
    error : str or None
        Why the file could not be imported (None unless it failed).
    skipped : bool
        True when the entry was not imported on purpose (see the module docstring).
    skip_reason : str or None
        Why it was skipped.
    examples : list[str]
        Readable examples of rejected rows.
    warnings : list[str]
        Suspicious but stored data, e.g. isolated one-bar spikes.
    notes : list[str]
        How the file was read, e.g. the inferred epoch unit of its timestamps.
    """

    file: Path
    symbol: str | None
    timeframe: str | None
    stored: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    skipped: bool = False
    skip_reason: str | None = None
    examples: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``"imported"``, ``"failed"`` or ``"skipped"``."""
        return "failed" if self.error else "skipped" if self.skipped else "imported"


@dataclass(frozen=True)
class ImportSummary:
    """Totals of an import.

    Attributes
    ----------
    imported, failed, skipped : int
        Number of files per :attr:`ImportResult.status`.
    stored, rejected : int
        Rows stored / rejected over all files.
    """

    imported: int
    failed: int
    skipped: int
    stored: int
    rejected: int

    @property
    def ok(self) -> bool:
        """True if at least one file was imported and none failed."""
        return self.imported > 0 and self.failed == 0


def summarise(results: list[ImportResult]) -> ImportSummary:
    """Add up ``results`` (see :class:`ImportSummary`)."""
    by_status = [r.status for r in results]
    return ImportSummary(
        imported=by_status.count("imported"),
        failed=by_status.count("failed"),
        skipped=by_status.count("skipped"),
        stored=sum(r.stored for r in results),
        rejected=sum(r.rejected for r in results),
    )


def import_path(
    path: Path,
    store: CandleStore,
    symbols: set[str] | None = None,
    timeframes: set[str] | None = None,
    *,
    clock: Clock | None = None,
    on_entry: Callable[[int, ImportResult], None] | None = None,
) -> list[ImportResult]:
    """Import a file, or every recognised file directly inside a folder.

    Parameters
    ----------
    path : pathlib.Path
        A ``.parquet``/``.csv`` file or a folder of them (not recursive).
    store : CandleStore
        Destination store.
    symbols : set[str] or None
        Only import these base assets (None = all; case-insensitive).
    timeframes : set[str] or None
        Only import these timeframes; include ``"funding"`` for funding files (None = all).
    clock : Clock or None
        Source of ``now`` for the future / still-forming candle rules (default: wall clock).
    on_entry : callable or None
        Called as ``on_entry(total_entries, result)`` after each entry (progress bars).

    Returns
    -------
    list[ImportResult]
        One result per entry of the folder (in name order) or for the file, including the
        skipped and failed ones, each with its reason.

    Raises
    ------
    DataError
        If ``path`` does not exist or is a broken symbolic link.
    """
    path = Path(path)
    entries = candidates(path)
    named = not path.is_dir()
    wanted = {s.upper() for s in symbols} if symbols is not None else None
    now = (clock or LiveClock()).now()
    results = []
    for entry in entries:
        results.append(_import_entry(entry, store, wanted, timeframes, now, named))
        if on_entry is not None:
            on_entry(len(entries), results[-1])
    return results


def _import_entry(
    entry: Candidate,
    store: CandleStore,
    symbols: set[str] | None,
    timeframes: set[str] | None,
    now: datetime,
    named: bool,
) -> ImportResult:
    file = entry.file
    try:
        source: ImportSource | None = classify(file)
        name_problem = ""
    except DataError as exc:
        source, name_problem = None, str(exc)
    excluded = _excluded(source, symbols, timeframes) if source is not None else ""
    if excluded:  # filters first: a broken entry the user did not ask for is no failure
        return ImportResult(file, source.symbol, source.timeframe, skipped=True, skip_reason=excluded)
    if entry.problem is not None:
        if named or entry.data_like:
            return ImportResult(file, None, None, error=f"{file.name}: {entry.problem}")
        return ImportResult(file, None, None, skipped=True, skip_reason=entry.problem)
    if source is None:
        if named:
            return ImportResult(file, None, None, error=name_problem)
        return ImportResult(file, None, None, skipped=True, skip_reason=name_problem)
    try:
        return _import_file(file, source, store, now)
    except DataError as exc:  # our messages say what is wrong, with the file name
        text = str(exc) if str(exc).startswith(f"{file.name}: ") else f"{file.name}: {exc}"
        log.info("import of %s failed: %s", file, text)
        return ImportResult(file, source.symbol, source.timeframe, error=text)
    except Exception as exc:  # noqa: BLE001 - one bad file must not abort the others
        log.info("import of %s failed: %s", file, exc)  # the result says it; no second line
        return ImportResult(
            file, source.symbol, source.timeframe, error=f"{type(exc).__name__}: {exc}"
        )


def _excluded(source: ImportSource, symbols: set[str] | None, timeframes: set[str] | None) -> str:
    if symbols is not None and source.symbol not in symbols:
        return f"symbol {source.symbol} not selected (selected: {', '.join(sorted(symbols))})"
    if timeframes is not None and source.timeframe not in timeframes:
        return f"{source.timeframe} not selected (selected: {', '.join(sorted(timeframes))})"
    return ""


def _import_file(file: Path, source: ImportSource, store: CandleStore, now: datetime) -> ImportResult:
    frame, notes = read_source(file, source)  # DataError if the file changed meanwhile
    warnings: list[str] = []
    checked: CandleValidation
    if source.timeframe == FUNDING:
        checked = validate_funding(frame, now=now)
        stored = store.write_funding(source.symbol, checked.valid) if len(checked.valid) else 0
    else:
        checked, warnings = validate_and_screen(frame, source.timeframe, now=now)
        stored = (
            store.write_candles(source.symbol, source.timeframe, checked.valid)
            if len(checked.valid)
            else 0
        )
    error = None
    if len(frame) == 0:
        error = f"{file.name}: the file holds no rows"
    elif stored == 0:
        error = f"{file.name}: no valid rows (all {checked.rejected} rejected)"
    return ImportResult(
        file,
        source.symbol,
        source.timeframe,
        stored=stored,
        rejected=checked.rejected,
        reasons=dict(checked.reasons),
        error=error,
        examples=list(checked.examples),
        warnings=warnings,
        notes=notes,
    )
