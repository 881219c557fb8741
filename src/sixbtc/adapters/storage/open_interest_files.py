"""Open-interest readings of the candle store: ``{root}/open_interest/{SYMBOL}.parquet``.

A side folder (the candle files keep their contract: ``verify`` and the store's inventory only
look at ``{root}/*.parquet``). Frame: ``timestamp`` (``datetime64[ns, UTC]``, the venue's reading
time) and ``value`` (open interest, base-asset units), ascending, unique. Writes validate
(:func:`sixbtc.data.validation.validate_open_interest`), merge (new rows win) and replace the
file atomically under the store's lock, like candles; strategies read the last reading at or
before each bar's close (:mod:`sixbtc.strategy.inputs`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sixbtc.adapters.storage.candle_files import (
    StoreLock,
    check_symbol,
    slice_frame,
    utc_bound,
    write_parquet,
)
from sixbtc.core.clock import Clock
from sixbtc.data.validation import validate_open_interest

log = logging.getLogger(__name__)
FOLDER = "open_interest"


class OpenInterestFiles:
    """Open-interest side files of a store (see the module docstring).

    Parameters
    ----------
    root : pathlib.Path
        The candle store's directory.
    lock : StoreLock
        The store's write lock.
    clock : Clock
        ``now`` of the future-reading rule.
    """

    def __init__(self, root: Path, lock: StoreLock, clock: Clock) -> None:
        self.dir, self._lock, self._clock = Path(root) / FOLDER, lock, clock

    def path(self, symbol: str) -> Path:
        """File of ``symbol`` (validated name)."""
        return self.dir / f"{check_symbol(symbol)}.parquet"

    def _stored(self, path: Path) -> pd.DataFrame | None:
        if not path.exists():
            return None
        try:
            return validate_open_interest(pd.read_parquet(path), now=self._clock.now()).valid
        except Exception as exc:  # noqa: BLE001 - an unreadable side file is rebuilt, not fatal
            log.warning("open interest: %s is unreadable (%s); it is replaced by the next write", path, exc)
            return None

    def write_open_interest(self, symbol: str, df: pd.DataFrame) -> int:
        """Validate readings and merge them into the symbol's file; return the rows of ``df`` stored.

        Raises
        ------
        DataError
            Bad symbol, missing column, or a failed write verification.
        """
        path = self.path(symbol)
        checked = validate_open_interest(df, now=self._clock.now())
        if checked.rejected:
            log.warning("open interest %s: %d rows rejected (%s)", symbol, checked.rejected, checked.reasons)
        if checked.valid.empty:
            return 0
        with self._lock:
            self.dir.mkdir(exist_ok=True)
            stored = self._stored(path)
            merged = checked.valid if stored is None else pd.concat([stored, checked.valid], ignore_index=True)
            merged = merged.drop_duplicates("timestamp", keep="last").sort_values("timestamp").reset_index(drop=True)
            write_parquet(path, merged)
        return len(checked.valid)

    def read_open_interest(self, symbol: str, start: pd.Timestamp | None = None,
                           end: pd.Timestamp | None = None) -> pd.DataFrame:
        """Readings with time in ``[start, end)``, shape ``(n, 2)``; empty (same columns) if none.

        Raises
        ------
        DataError
            For a bad symbol or bound.
        """
        frame = self._stored(self.path(symbol))
        if frame is None:
            return pd.DataFrame({"timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
                                 "value": pd.Series([], dtype="float64")})
        return slice_frame(frame, utc_bound(start, "start"), utc_bound(end, "end"))
