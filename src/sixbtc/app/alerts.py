"""Alerts: record every anomaly, crash and heartbeat, notify it unless its cooldown holds.

:func:`alert` records the alert in ``alerts`` and sends it through every configured channel
(:func:`channels`) unless one of the same ``kind`` and ``key`` was sent less than its cooldown
ago: ``watchdog.critical_cooldown_minutes`` (at most 5) for ``missing_stop``, ``kill_switch``
and ``crash``, ``watchdog.cooldown_minutes`` for the others. The cooldown is read from the
database, so it holds across processes and restarts.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from sixbtc.app.container import Container

#: Kinds never throttled beyond ``watchdog.critical_cooldown_minutes`` (<= 5 minutes).
CRITICAL_KINDS = frozenset({"missing_stop", "kill_switch", "crash"})
log = structlog.get_logger("sixbtc.alerts")


def cooldown(c: Container, kind: str) -> timedelta:
    """The cooldown of alerts of ``kind``."""
    w = c.settings.watchdog
    return timedelta(minutes=w.critical_cooldown_minutes if kind in CRITICAL_KINDS else w.cooldown_minutes)


def channels(c: Container) -> list[object]:
    """The configured notification channels (none yet)."""
    del c
    return []


def alert(c: Container, kind: str, key: str, severity: str, text: str) -> bool:
    """Record an alert and notify it unless its cooldown holds; True when it was sent."""
    last = c.ops.last_sent(kind, key)
    held = last is not None and c.clock.now() - last < cooldown(c, kind)
    sent = False
    if not held:
        for channel in channels(c):
            sent = channel.send(kind, key, severity, text) or sent
    c.ops.add_alert(kind, key, severity, text, sent=sent)
    log.warning("alert", kind=kind, key=key, severity=severity, text=text, sent=sent, held=held)
    return sent
