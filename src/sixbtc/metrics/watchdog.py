"""Watchdog rules (SPEC §3.10): the anomalies in one observation of the running system.

Pure: :func:`anomalies` turns an :class:`Observation` into :class:`Anomaly` objects, each
with a ``kind`` (the cooldown unit with ``key``), a severity and a text. Rules:

``feed_disconnected`` (WARNING)
    the executor's newest heartbeat says its candle feed is not ``connected`` (offline replay
    or failing polls).
``data_stale`` (WARNING)
    a LIVE stream's newest candle closed (open time + timeframe) more than
    ``stale_after`` before now.
``all_stopped`` (CRITICAL)
    LIVE strategies exist and every one of them is paused or halted.
``kill_switch`` (CRITICAL)
    a trading scope (``global`` or ``strategy:<id>``) is HALTED or REDUCING.
``missing_stop`` (CRITICAL)
    an open position has no usable stop-loss (not a positive finite price).
``role_silent`` (CRITICAL)
    a running role's newest heartbeat is older than ``heartbeat_timeout``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Anomaly:
    """One finding: ``kind`` and ``key`` (what it is about), ``severity``, ``text``."""

    kind: str
    key: str
    severity: str
    text: str


@dataclass(frozen=True)
class Stream:
    """A LIVE strategy's stream and its newest stored candle (open time, UTC; None: none)."""

    symbol: str
    timeframe: str
    timeframe_s: float
    last_open: datetime | None


@dataclass(frozen=True)
class Observation:
    """What the watchdog looks at, read at ``now``.

    ``heartbeats`` are rows of ``role_heartbeats`` (``role``, ``worker``, ``state``, ``beat_at``,
    ``feed`` for the executor: ``connected`` / ``offline`` / ``disconnected`` / None);
    ``live_ids`` the LIVE strategy ids and ``stopped_ids`` those paused or halted;
    ``states`` scope → (state, reason) of every scope not ACTIVE; ``positions`` open positions
    (``id``, ``strategy_id``, ``symbol``, ``stop_price``).
    """

    now: datetime
    heartbeats: list[dict[str, Any]] = field(default_factory=list)
    streams: list[Stream] = field(default_factory=list)
    live_ids: frozenset[int] = frozenset()
    stopped_ids: frozenset[int] = frozenset()
    states: dict[str, tuple[str, str]] = field(default_factory=dict)
    positions: list[dict[str, Any]] = field(default_factory=list)


def _feed(obs: Observation) -> list[Anomaly]:
    running = [h for h in obs.heartbeats if h["role"] == "executor" and h["state"] == "running"]
    return [Anomaly("feed_disconnected", h["worker"], "WARNING", f"executor feed {h.get('feed') or 'unknown'} ({h['worker']})")
            for h in running[:1] if h.get("feed") != "connected"]


def _stale(obs: Observation, stale_after: timedelta) -> list[Anomaly]:
    out = []
    for s in obs.streams:
        closed = s.last_open + timedelta(seconds=s.timeframe_s) if s.last_open else None
        if closed is None or obs.now - closed > stale_after:
            age = f"{(obs.now - closed).total_seconds() / 60:.0f} min old" if closed else "no candles"
            out.append(Anomaly("data_stale", f"{s.symbol}/{s.timeframe}", "WARNING",
                               f"data stale: {s.symbol} {s.timeframe} newest candle {age}"))
    return out


def _silent(obs: Observation, timeout: timedelta) -> list[Anomaly]:
    return [Anomaly("role_silent", h["worker"], "CRITICAL",
                    f"role {h['role']} silent: last heartbeat {(obs.now - h['beat_at']).total_seconds():.0f} s ago ({h['worker']})")
            for h in obs.heartbeats if h["state"] == "running" and obs.now - h["beat_at"] > timeout]


def _stop_ok(price: Any) -> bool:
    return isinstance(price, int | float) and math.isfinite(price) and price > 0


def anomalies(obs: Observation, *, stale_after: timedelta, heartbeat_timeout: timedelta) -> list[Anomaly]:
    """Every anomaly of ``obs`` (see the module docstring for the rules)."""
    found = _feed(obs) + _stale(obs, stale_after)
    if obs.live_ids and obs.live_ids <= obs.stopped_ids:
        found.append(Anomaly("all_stopped", "live", "CRITICAL", f"all {len(obs.live_ids)} LIVE strategies are stopped"))
    found += [Anomaly("kill_switch", scope, "CRITICAL", f"trading {state} on {scope} ({reason})")
              for scope, (state, reason) in sorted(obs.states.items())]
    found += [Anomaly("missing_stop", f"position:{p['id']}", "CRITICAL",
                      f"position {p['id']} ({p['symbol']}, strategy {p['strategy_id']}) has no stop-loss")
              for p in obs.positions if not _stop_ok(p.get("stop_price"))]
    return found + _silent(obs, heartbeat_timeout)
