"""Issue 13, alerts and Telegram: the watchdog's anomalies reach a local fake Telegram Bot API
and a local webhook (real HTTP on 127.0.0.1 through httpx) with per-anomaly cooldowns; the bot
obeys ``/status`` and ``/stop`` only from the configured chat."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sixbtc.app.alerts import alert
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.app.watchdog import TelegramCommands, heartbeat_now, watch_now
from sixbtc.config import Settings
from sixbtc.core.clock import SimClock
from sixbtc.domain.risk import Halt, TradingState
from sixbtc.testing.fake_telegram import FakeTelegram

TOKEN = "123456:FAKE-telegram-token-abcdef"
CHAT = "4242"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Webhook:
    """A local webhook receiver recording JSON bodies."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                hook.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_a: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as f:
        yield f


@pytest.fixture
def hook() -> Iterator[Webhook]:
    h = Webhook()
    yield h
    h.httpd.shutdown()


def _container(tmp_path: Path, fake: FakeTelegram, hook: Webhook | None = None) -> Container:
    notify = {"telegram_token": TOKEN, "telegram_chat_id": CHAT, "telegram_api_url": fake.url,
              "webhook_url": hook.url if hook else None}
    home = Home(tmp_path / "home")
    home.ensure()
    return Container(home, Settings(notify=notify), SimClock(T0))


def _later(c: Container, minutes: float) -> None:
    c.clock.advance_to(c.clock.now() + timedelta(minutes=minutes))


def test_kill_switch_alerts_repeat_every_five_minutes_others_every_cooldown(tmp_path: Path, fake: FakeTelegram,
                                                                          hook: Webhook) -> None:
    c = _container(tmp_path, fake, hook)
    c.trading_states.escalate(Halt("global", TradingState.HALTED, "kill:global_drawdown_24h", "drawdown 12 %"))
    c.ops.beat("backtester@h:1/1", "backtester", "h", 1)  # then silent
    _later(c, 3)
    found = {(a.kind, a.key) for a in watch_now(c)}
    assert found == {("kill_switch", "global"), ("role_silent", "backtester@h:1/1")}
    assert len(fake.texts()) == 2 and any("kill:global_drawdown_24h" in t for t in fake.texts())
    assert {b["kind"] for b in hook.bodies} == {"kill_switch", "role_silent"}
    _later(c, 4)  # 4 min: both held
    watch_now(c)
    assert len(fake.texts()) == 2
    _later(c, 1.5)  # 5.5 min after the first: the kill switch again, the silent role still held (30 min)
    watch_now(c)
    assert [t for t in fake.texts() if "kill" in t].__len__() == 2 and len(fake.texts()) == 3
    _later(c, 25)
    watch_now(c)
    assert sum("silent" in t for t in fake.texts()) == 2
    rows = c.ops.alerts()
    assert all(r["sent"] for r in rows) and len(rows) == 5


def test_a_failed_notification_is_recorded_unsent_and_retried_after_the_cooldown(tmp_path: Path,
                                                                                fake: FakeTelegram) -> None:
    c = _container(tmp_path, fake)
    fake.fail_next = 1
    assert alert(c, "missing_stop", "position:1", "CRITICAL", "no stop") is False
    assert c.ops.alerts()[0]["sent"] is False
    _later(c, 5)
    assert alert(c, "missing_stop", "position:1", "CRITICAL", "no stop") is True
    assert fake.texts() == ["[CRITICAL] no stop"]


def test_heartbeat_is_sent_once_per_period(tmp_path: Path, fake: FakeTelegram) -> None:
    c = _container(tmp_path, fake)
    assert heartbeat_now(c) is True
    _later(c, 30)
    assert heartbeat_now(c) is False
    _later(c, 31)
    assert heartbeat_now(c) is True
    assert len(fake.texts()) == 2 and fake.texts()[0].startswith("[INFO] SixBTC status:")


def test_commands_only_from_the_configured_chat(tmp_path: Path, fake: FakeTelegram) -> None:
    c = _container(tmp_path, fake)
    commands = TelegramCommands(c)
    fake.user_says(999, "/stop")
    fake.user_says(999, "/status")
    assert commands.poll() == []
    assert c.trading_states.get("global").state == TradingState.ACTIVE and fake.sent == []
    fake.user_says(int(CHAT), "/status")
    assert commands.poll() == ["/status"]
    assert fake.sent[-1]["chat_id"] == CHAT and "SixBTC status:" in fake.sent[-1]["text"]
    fake.user_says(int(CHAT), "/stop@sixbtc_bot")
    assert commands.poll() == ["/stop"]
    state = c.trading_states.get("global")
    assert state.state == TradingState.HALTED and state.reason == "emergency_stop"
    assert "trading HALTED" in fake.sent[-1]["text"]
    assert commands.poll() == []  # confirmed updates are not handled twice
