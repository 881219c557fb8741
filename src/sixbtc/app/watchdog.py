"""Watchdog, heartbeat and Telegram commands (SPEC §3.10), wired to the container.

:func:`observe` reads an :class:`~sixbtc.metrics.watchdog.Observation` (heartbeats, LIVE
streams and their newest candles, paused/halted strategies, trading states, open positions);
:func:`watch_now` alerts each anomaly (:func:`sixbtc.app.alerts.alert`, per-anomaly cooldowns).
:func:`heartbeat_now` sends the periodic summary (cooldown ``watchdog.heartbeat_minutes``).
:class:`TelegramCommands` polls the bot and obeys ``/status`` and ``/stop`` only from
``notify.telegram_chat_id``; ``/stop`` is the emergency stop of :mod:`sixbtc.app.emergency`
(trading HALTED in the database, open orders cancelled, positions kept).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import structlog

from sixbtc.app.alerts import alert, telegram
from sixbtc.app.container import Container
from sixbtc.app.emergency import emergency_stop
from sixbtc.app.venues import open_venue
from sixbtc.domain.risk import TradingState
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.domain.timeframe import Timeframe
from sixbtc.metrics.watchdog import Anomaly, Observation, Stream, anomalies

log = structlog.get_logger("sixbtc.watchdog")


def _heartbeats(c: Container) -> list[dict]:
    rows = []
    for h in c.ops.heartbeats():
        try:
            feed = json.loads(h["detail"]).get("feed") if h["detail"].startswith("{") else None
        except ValueError:
            feed = None
        rows.append(dict(h, feed=feed))
    return rows


def _streams(c: Container, live: list) -> list[Stream]:
    out = []
    for rec in live:
        tf = rec.timeframe or ""
        for symbol in rec.symbols:
            last = c.store.last_timestamp(symbol, tf)
            out.append(Stream(symbol, tf, Timeframe.parse(tf).ms / 1000,
                              pd.Timestamp(last).to_pydatetime() if last is not None else None))
    return out


def observe(c: Container) -> Observation:
    """What the watchdog looks at, now."""
    live = c.strategies.list_by_status(StrategyStatus.LIVE)
    states = {s: (str(r.state), r.reason) for s, r in c.trading_states.all().items() if r.state != TradingState.ACTIVE}
    halted = {int(s.split(":", 1)[1]) for s in states if s.startswith("strategy:") and s.split(":", 1)[1].isdigit()}
    live_ids = frozenset(r.id for r in live)
    stopped = frozenset(live_ids if "global" in states and states["global"][0] == "HALTED" else
                        halted & live_ids)
    return Observation(c.clock.now(), _heartbeats(c), _streams(c, live), live_ids, stopped, states,
                       c.trading.open_positions())


def watch_now(c: Container) -> list[Anomaly]:
    """Find the anomalies and alert each (cooldowns apply); returns them all."""
    w = c.settings.watchdog
    found = anomalies(observe(c), stale_after=timedelta(minutes=w.data_stale_minutes),
                      heartbeat_timeout=timedelta(seconds=w.heartbeat_timeout_s))
    for a in found:
        alert(c, a.kind, a.key, a.severity, f"SixBTC: {a.text}")
    return found


def summary(c: Container) -> str:
    """One-paragraph status: health, counts, positions, trading state, roles."""
    snap = c.ops.latest_snapshot()
    counts = c.strategies.counts_by_status()
    roles = sorted({h["role"] for h in c.ops.heartbeats() if h["state"] == "running"})
    state = c.trading_states.get("global")
    health = f"{snap['status']} ({'; '.join(snap['data']['reasons']) or 'no issue'})" if snap else "no snapshot yet"
    return (f"SixBTC status: {health}. LIVE {counts['LIVE']}, ACTIVE {counts['ACTIVE']}, VALIDATED "
            f"{counts['VALIDATED']}, GENERATED {counts['GENERATED']}. Open positions {len(c.trading.open_positions())}. "
            f"Trading {state.state}. Roles running: {', '.join(roles) or 'none'}.")


def heartbeat_now(c: Container) -> bool:
    """Send the periodic summary (held until ``watchdog.heartbeat_minutes`` passed); True when sent."""
    return alert(c, "heartbeat", "summary", "INFO", summary(c))


class TelegramCommands:
    """Poll the bot's messages and obey ``/status`` and ``/stop`` from the configured chat only."""

    def __init__(self, c: Container) -> None:
        self.c = c
        self.offset: int | None = None

    def poll(self) -> list[str]:
        """Handle the new messages; returns the commands obeyed (e.g. ``["/status"]``)."""
        bot = telegram(self.c)
        if bot is None or not self.c.settings.notify.commands:
            return []
        done = []
        try:
            for cmd in bot.updates(self.offset):
                self.offset = cmd.update_id + 1
                word = cmd.text.strip().split("@")[0].split(" ")[0].lower()
                if word not in ("/status", "/stop"):
                    continue
                if cmd.chat_id != bot.chat_id:
                    log.warning("telegram command refused: not the configured chat", command=word, chat_id=cmd.chat_id)
                    continue
                bot.reply(cmd.chat_id, summary(self.c) if word == "/status" else self._stop(cmd.chat_id))
                done.append(word)
        finally:
            bot.close()
        return done

    def _stop(self, chat_id: str) -> str:
        report = emergency_stop(self.c.trading_states, self.c.strategies, lambda: open_venue(self.c),
                                close_positions=False, who=f"telegram /stop from chat {chat_id}")
        log.warning("emergency stop by telegram", chat_id=chat_id, newly_halted=report.newly_halted)
        head = "trading HALTED" if report.newly_halted else "trading was already HALTED"
        tail = f"; {len(report.cancelled)} orders cancelled" + (f"; {len(report.failures)} failures (see the logs)"
                                                                 if report.failures else "")
        return f"SixBTC: {head}{tail}. `sixbtc resume` lifts it."
