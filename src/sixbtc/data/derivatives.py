"""Funding and open interest polled for the live streams' symbols (SPEC §3.1 live feed).

:class:`DerivativesPoller` is stepped by the service; each :meth:`~DerivativesPoller.poll` reads
what is due:

* **funding** every :data:`FUNDING_PERIOD_S` (5 min): the settlements after the last stored one
  (``fetch_funding_history``; a symbol without stored funding starts ``history_days`` back),
  stored with ``write_funding``, as the downloader does;
* **open interest** every :data:`OPEN_INTEREST_PERIOD_S` (60 s): the venue's current reading
  (``fetch_open_interest``), appended with ``write_open_interest`` (one row per poll, stamped
  with the venue's time; strategies take the last reading at or before a bar's close).

A venue error on one symbol is logged and does not keep the others from being polled; the
symbol is asked again at the next period. ``NetworkUnavailable`` ends the pass (retried later).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from sixbtc.core.clock import Clock
from sixbtc.core.errors import NetworkUnavailable, SixbtcError
from sixbtc.data.ports import CandleStore, MarketDataClient, OpenInterestClient, OpenInterestStore

log = logging.getLogger(__name__)

FUNDING_PERIOD_S = 300.0
"""Seconds between two funding polls of a symbol."""
OPEN_INTEREST_PERIOD_S = 60.0
"""Seconds between two open-interest polls of a symbol."""
DAY_MS = 86_400_000


class _Venue(MarketDataClient, OpenInterestClient, Protocol):
    """REST reads the poller needs (a ``CcxtMarketData`` has both)."""


class _Store(CandleStore, OpenInterestStore, Protocol):
    """Writes the poller needs (a ``ParquetCandleStore`` has both)."""


@dataclass(frozen=True)
class PollResult:
    """What one :meth:`DerivativesPoller.poll` stored.

    Attributes
    ----------
    funding_rows, open_interest_rows : int
        Rows stored.
    errors : int
        Symbols whose read failed (logged).
    """

    funding_rows: int = 0
    open_interest_rows: int = 0
    errors: int = 0


class DerivativesPoller:
    """Funding every 5 min and open interest every 60 s for a set of symbols.

    Parameters
    ----------
    client : MarketDataClient and OpenInterestClient
        The venue (REST).
    store : CandleStore and OpenInterestStore
        Where readings go.
    clock : Clock
        Decides what is due.
    symbols : callable
        The symbols to poll, re-read at each pass (the live feed's streams' symbols).
    history_days : int
        Funding look-back of a symbol with nothing stored.
    """

    def __init__(self, client: _Venue, store: _Store, clock: Clock, symbols: Callable[[], Iterable[str]], *,
                 history_days: int = 30) -> None:
        self.client, self.store, self.clock, self.symbols = client, store, clock, symbols
        self.history_days = history_days
        self._next: dict[tuple[str, str], float] = {}  # (kind, symbol) -> epoch s of the next poll

    def poll(self) -> PollResult:
        """Read and store what is due now; see the module docstring."""
        now_s = self.clock.now().timestamp()
        funding = oi = errors = 0
        for symbol in sorted(set(self.symbols())):
            try:
                if self._due("funding", symbol, now_s, FUNDING_PERIOD_S):
                    funding += self._funding(symbol, int(now_s * 1000))
                if self._due("oi", symbol, now_s, OPEN_INTEREST_PERIOD_S):
                    oi += self._open_interest(symbol)
            except NetworkUnavailable as exc:
                log.warning("derivatives poll: venue unreachable, retried later: %s", exc)
                self._next.clear()
                return PollResult(funding, oi, errors + 1)
            except SixbtcError as exc:
                errors += 1
                log.warning("derivatives poll of %s failed, retried at its next period: %s", symbol, exc)
        return PollResult(funding, oi, errors)

    def _due(self, kind: str, symbol: str, now_s: float, period_s: float) -> bool:
        if now_s < self._next.get((kind, symbol), 0.0):
            return False
        self._next[(kind, symbol)] = now_s + period_s
        return True

    def _funding(self, symbol: str, now_ms: int) -> int:
        stored = self.store.read_funding(symbol)
        since = (int(stored["timestamp"].iloc[-1].value // 1_000_000) + 1 if len(stored)
                 else now_ms - self.history_days * DAY_MS)
        events = self.client.fetch_funding_history(symbol, since, now_ms + 1)
        return self.store.write_funding(symbol, events) if len(events) else 0

    def _open_interest(self, symbol: str) -> int:
        stamp_ms, value = self.client.fetch_open_interest(symbol)
        frame = pd.DataFrame({"timestamp": [pd.Timestamp(stamp_ms, unit="ms", tz="UTC")], "value": [value]})
        return self.store.write_open_interest(symbol, frame)
