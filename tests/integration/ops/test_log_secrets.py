"""Issue 13, logs of a service run: JSON lines carrying role, pid (and the claim a line is
about), and no secret anywhere, although the planted secrets are used (the Telegram token is
in every Bot API URL, which httpx logs at DEBUG) while the roles run as real processes."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

from tests.integration.ops.roles_support import make_home, start_worker, wait_until

from sixbtc.testing.fake_telegram import FakeTelegram

SECRETS = {"SIXBTC__NOTIFY__TELEGRAM_TOKEN": "987654:PLANTED-telegram-secret-XYZ",
           "SIXBTC__LLM__API_KEY": "sk-PLANTED-llm-secret-0123456789",
           "SIXBTC__API__TOKEN": "PLANTED-api-token-0123456789abcdef0123456789",
           "SIXBTC__EXCHANGE__MASTER_PRIVATE_KEY": "0x" + "5eed" * 16}
CHAT = "777"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_service_logs_are_json_with_context_and_never_show_a_secret(tmp_path: Path) -> None:
    with FakeTelegram(SECRETS["SIXBTC__NOTIFY__TELEGRAM_TOKEN"]) as fake:
        home = make_home(tmp_path, f"logging:\n  level: DEBUG\napi:\n  port: {_free_port()}\n"
                                   f"notify:\n  telegram_chat_id: '{CHAT}'\n  telegram_api_url: {fake.url}\n"
                                   "metrics:\n  interval_s: 1\nwatchdog:\n  interval_s: 1\n", generate=6)
        fake.user_says(int(CHAT), "/status")
        extra = SECRETS | {"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        logs = {r: tmp_path / f"{r}.log" for r in ("monitor", "api", "validator")}
        procs = {r: start_worker(home, r, p, extra) for r, p in logs.items()}
        try:
            answered = wait_until(lambda: len(fake.sent) >= 2, 300, every_s=0.5)  # heartbeat + /status reply
            processed = wait_until(lambda: '"processed"' in logs["validator"].read_text(), 300, every_s=0.5)
            served = wait_until(lambda: '"api serving"' in logs["api"].read_text(), 120, every_s=0.5)
            for p in procs.values():
                p.send_signal(signal.SIGTERM)
            codes = {r: p.wait(timeout=60) for r, p in procs.items()}
        finally:
            for p in procs.values():
                p.kill()
    texts = {r: p.read_text() for r, p in logs.items()}
    assert answered and processed and served, texts
    assert codes == {"monitor": 143, "api": 143, "validator": 143}, texts
    everything = "\n".join([*texts.values(), *(p.read_text(errors="replace") for p in (home / "logs").glob("*"))]
                           if (home / "logs").exists() else texts.values())
    for name, secret in SECRETS.items():
        assert secret not in everything, f"{name} leaked into the logs"
    assert "[REDACTED]" in texts["monitor"]  # the token did reach the log pipeline (httpx URLs) and was cut
    for role, text in texts.items():
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        assert lines and all(x["role"] == role and isinstance(x["pid"], int) for x in lines), role
    claims = [x for x in map(json.loads, texts["validator"].splitlines()) if x["event"] == "processed"]
    assert claims and all(isinstance(x["strategy_id"], int) and "claim_token" in x and x["strategy"] for x in claims)
