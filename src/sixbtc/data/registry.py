"""Coin registry: a thread-safe cached view of the coin table (SPEC §3.1 "Coin registry").

The cache is reloaded when it is older than ``ttl_s`` (SPEC: 5 min) or when the table
changed: at most every ``check_s`` seconds a call asks the table for its
:meth:`~sixbtc.data.ports.CoinTable.version` (one small aggregate query) and reloads when
it differs, so a pairs update written by another process is seen within ``check_s``.
:meth:`CoinRegistry.invalidate` drops the cache at once (the pairs updater of this process
calls it).

Ordering everywhere is "most liquid first": 24 h volume descending, coins without a volume
after those with one, then symbol.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from sixbtc.core.errors import DataError
from sixbtc.data.ports import CoinInfo, CoinTable

TTL_S = 300.0  # SPEC §3.1: 5 minutes


class CoinRegistry:
    """Cached, thread-safe reads of the coin table.

    Parameters
    ----------
    table : CoinTable
        The persistent coin table (``CoinRepository``).
    ttl_s : float
        Seconds a loaded snapshot is used at most (> 0).
    check_s : float
        Seconds between two version checks of the table (>= 0; 0 checks on every call).
    monotonic : callable
        Clock in seconds (default ``time.monotonic``; tests inject one).

    Raises
    ------
    DataError
        If ``ttl_s`` <= 0 or ``check_s`` < 0.
    """

    def __init__(self, table: CoinTable, *, ttl_s: float = TTL_S, check_s: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if ttl_s <= 0 or check_s < 0:
            raise DataError(f"coin registry: ttl_s must be > 0 and check_s >= 0, got {ttl_s}, {check_s}")
        self._table, self._ttl, self._check, self._now = table, ttl_s, check_s, monotonic
        self._lock = threading.Lock()
        self._coins: dict[str, CoinInfo] | None = None
        self._ranked: list[CoinInfo] = []
        self._version = ""
        self._loaded_at = self._checked_at = 0.0
        self.loads = 0  # number of table loads (observable cache behaviour)

    def invalidate(self) -> None:
        """Drop the cached snapshot; the next call reloads the table."""
        with self._lock:
            self._coins = None

    def _snapshot(self) -> tuple[dict[str, CoinInfo], list[CoinInfo]]:
        with self._lock:
            now = self._now()
            if self._coins is not None and now - self._loaded_at < self._ttl:
                if now - self._checked_at < self._check:
                    return self._coins, self._ranked
                self._checked_at = now
                if self._table.version() == self._version:
                    return self._coins, self._ranked
            self._version = self._table.version()
            rows = self._table.all_coins()
            self._coins = {c.symbol: c for c in rows}
            self._ranked = sorted(rows, key=_liquidity_key)
            self._loaded_at = self._checked_at = now
            self.loads += 1
            return self._coins, self._ranked

    def get_active_pairs(self, min_volume: float | None = None, limit: int | None = None) -> list[str]:
        """Active symbols, most liquid first.

        Parameters
        ----------
        min_volume : float or None
            Keep coins whose 24 h volume (USD) is at least this (coins without a volume are
            dropped when it is given).
        limit : int or None
            Most symbols returned (>= 0).

        Raises
        ------
        DataError
            If ``limit`` < 0.
        """
        if limit is not None and limit < 0:
            raise DataError(f"limit must be >= 0, got {limit}")
        _, ranked = self._snapshot()
        out = [c.symbol for c in ranked if c.is_active and _liquid(c, min_volume)]
        return out if limit is None else out[:limit]

    def get_coin(self, symbol: str) -> CoinInfo | None:
        """The coin's row, or None if the table does not know it."""
        return self._snapshot()[0].get(symbol)

    def get_max_leverage(self, symbol: str) -> float | None:
        """The venue's maximum leverage of ``symbol`` (×), None when not recorded yet.

        Raises
        ------
        DataError
            If the coin is not in the table.
        """
        coin = self.get_coin(symbol)
        if coin is None:
            raise DataError(f"unknown coin {symbol!r}: not in the coin table (run `sixbtc data pairs`)")
        return coin.max_leverage

    def is_tradable(self, symbol: str, min_volume: float | None = None) -> bool:
        """True when ``symbol`` is active (and its 24 h volume is at least ``min_volume`` USD)."""
        coin = self.get_coin(symbol)
        return coin is not None and coin.is_active and _liquid(coin, min_volume)

    def get_tradable_for_strategy(self, symbols: Iterable[str], min_volume: float | None = None) -> list[str]:
        """The strategy's own ``symbols`` that are tradable now, in the given order (no fallback:
        a strategy is never moved to coins it was not tested on)."""
        coins, _ = self._snapshot()
        out: list[str] = []
        for s in symbols:
            c = coins.get(s)
            if c is not None and c.is_active and _liquid(c, min_volume) and s not in out:
                out.append(s)
        return out


def _liquid(coin: CoinInfo, min_volume: float | None) -> bool:
    return min_volume is None or (coin.volume_24h_usd is not None and coin.volume_24h_usd >= min_volume)


def _liquidity_key(coin: CoinInfo) -> tuple[bool, float, str]:
    vol = coin.volume_24h_usd
    return (vol is None, -(vol or 0.0), coin.symbol)
