"""Alerts: notify an anomaly, crash or heartbeat unless its cooldown holds, and record it.

:func:`alert` sends through every configured channel (:func:`channels`: Telegram when
``notify.telegram_token`` and ``telegram_chat_id`` are set, the webhook when
``notify.webhook_url`` is) unless an alert of the same ``kind`` and ``key`` was recorded less
than its cooldown ago: ``watchdog.critical_cooldown_minutes`` (at most 5) for
``missing_stop``, ``kill_switch`` and ``crash``, ``watchdog.heartbeat_minutes`` for
``heartbeat``, ``watchdog.cooldown_minutes`` for the others. An alert not held back is recorded
in ``alerts`` (sent or not: no channel, or every channel failed), so the cooldown holds across
processes and restarts; a held one is only logged.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from sixbtc.adapters.notify.telegram import TelegramChannel
from sixbtc.adapters.notify.webhook import WebhookChannel
from sixbtc.app.container import Container

#: Kinds never throttled beyond ``watchdog.critical_cooldown_minutes`` (<= 5 minutes).
CRITICAL_KINDS = frozenset({"missing_stop", "kill_switch", "crash"})
log = structlog.get_logger("sixbtc.alerts")


def cooldown(c: Container, kind: str) -> timedelta:
    """The cooldown of alerts of ``kind``."""
    w = c.settings.watchdog
    if kind in CRITICAL_KINDS:
        return timedelta(minutes=w.critical_cooldown_minutes)
    return timedelta(minutes=w.heartbeat_minutes if kind == "heartbeat" else w.cooldown_minutes)


def telegram(c: Container) -> TelegramChannel | None:
    """The Telegram channel of the settings, or None when the token or the chat id is missing."""
    n = c.settings.notify
    if n.telegram_token is None or not n.telegram_token.get_secret_value() or not n.telegram_chat_id:
        return None
    return TelegramChannel(n.telegram_api_url, n.telegram_token, n.telegram_chat_id, n.timeout_s)


def channels(c: Container) -> list[TelegramChannel | WebhookChannel]:
    """The configured notification channels."""
    n = c.settings.notify
    found: list[TelegramChannel | WebhookChannel] = [t] if (t := telegram(c)) is not None else []
    if n.webhook_url:
        found.append(WebhookChannel(n.webhook_url, n.timeout_s))
    return found


def alert(c: Container, kind: str, key: str, severity: str, text: str) -> bool:
    """Notify and record an alert unless its cooldown holds; True when a channel accepted it."""
    last = c.ops.last_alert(kind, key)
    if last is not None and c.clock.now() - last < cooldown(c, kind):
        log.info("alert held by its cooldown", kind=kind, key=key)
        return False
    sent = False
    for channel in channels(c):
        ok = channel.send(kind, key, severity, text)
        if not ok:
            log.warning("notification failed", channel=channel.name, error=channel.last_error)
        sent = ok or sent
        channel.close()
    c.ops.add_alert(kind, key, severity, text, sent=sent)
    log.warning("alert", kind=kind, key=key, severity=severity, text=text, sent=sent)
    return sent
