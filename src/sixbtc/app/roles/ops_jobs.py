"""The operations jobs the monitor role (and ``sixbtc run``) runs beside its own work: the
metrics collector every ``metrics.interval_s``, the watchdog every ``watchdog.interval_s``, the
summary heartbeat (sent every ``watchdog.heartbeat_minutes``, checked each minute) and the
Telegram commands (polled every :data:`COMMAND_POLL_S` s when a bot is configured)."""

from __future__ import annotations

import structlog

from sixbtc.app.container import Container
from sixbtc.app.metrics import collect_now
from sixbtc.app.roles.runtime import Job
from sixbtc.app.watchdog import TelegramCommands, heartbeat_now, watch_now

#: Seconds between two polls of the Telegram bot's messages.
COMMAND_POLL_S = 5.0
log = structlog.get_logger("sixbtc.ops")


def _collect(c: Container) -> None:
    snap = collect_now(c)
    log.info("metrics snapshot", status=snap.status, reasons=snap.data["reasons"])


def ops_jobs(c: Container) -> list[Job]:
    """The periodic operations jobs of ``c``'s settings."""
    jobs = [Job("metrics", float(c.settings.metrics.interval_s), lambda: _collect(c)),
            Job("watchdog", c.settings.watchdog.interval_s, lambda: watch_now(c)),
            Job("heartbeat", 60.0, lambda: heartbeat_now(c))]
    n = c.settings.notify
    if n.telegram_token is not None and n.telegram_chat_id and n.commands:
        jobs.append(Job("telegram_commands", COMMAND_POLL_S, TelegramCommands(c).poll))
    return jobs
