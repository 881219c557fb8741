"""Identifier helpers: short ids, code hashes, deterministic client order ids."""

from __future__ import annotations

import hashlib
import uuid


def short_id(n: int = 8) -> str:
    """Return a random lowercase hex id of ``n`` characters (n <= 32)."""
    return uuid.uuid4().hex[:n]


def sha256_hex(text: str) -> str:
    """Return the SHA-256 hex digest of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def client_order_id(strategy_id: int, symbol: str, bar_ts_ms: int, leg: str) -> str:
    """Deterministic client order id for one order leg.

    The same (strategy, symbol, bar, leg) always yields the same id, so a retry after an
    ambiguous outcome can look the order up instead of sending it again.

    Parameters
    ----------
    strategy_id : int
        Database id of the strategy.
    symbol : str
        Base asset, e.g. ``"BTC"``.
    bar_ts_ms : int
        Open time (ms since epoch, UTC) of the signal bar.
    leg : str
        ``"entry"``, ``"exit"``, ``"sl"`` or ``"tp"``.

    Returns
    -------
    str
        32 hex characters prefixed with ``"sx"``.
    """
    raw = f"{strategy_id}|{symbol}|{bar_ts_ms}|{leg}"
    return "sx" + hashlib.sha256(raw.encode()).hexdigest()[:30]
