"""Transport-level proof that paper mode never signs: a full paper session (`sixbtc run --once`
in a child process, LIVE strategies trading on the paper executor) runs with every outbound
connection refused by a socket guard and every HTTP(S) request routed to a local trap proxy
that records what reaches it (a signed order would be a POST to /exchange). The session must
trade, the trap must see nothing, and no signing library may even be imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from executor_world import add_live, strategy_code

HERE = Path(__file__).resolve().parent
CHILD = """
import sys
sys.path.insert(0, {here!r})
import network_guard
network_guard.install({report!r})
from sixbtc.cli.main import app
sys.argv = ["sixbtc", "--home", {home!r}, "run", "--once", "--generate", "0"]
app()
"""


class _Trap(BaseHTTPRequestHandler):
    seen: list[str] = []

    def _record(self) -> None:
        _Trap.seen.append(f"{self.command} {self.path}")
        self.send_response(599 if self.path.endswith("/exchange") else 502)
        self.end_headers()

    do_GET = do_POST = do_CONNECT = do_PUT = _record

    def log_message(self, *args: object) -> None:
        pass


def test_a_paper_session_sends_no_signed_request_and_builds_no_signer(make_world, tmp_path: Path) -> None:
    c = make_world()
    sid = add_live(c, "Strategy_MOM_00000001", strategy_code("Strategy_MOM_00000001"), ("BTC", "ETH"))
    trap = ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    threading.Thread(target=trap.serve_forever, daemon=True).start()
    proxy = f"http://127.0.0.1:{trap.server_address[1]}"
    report = tmp_path / "guard.json"
    env = {**os.environ, "HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "https_proxy": proxy, "http_proxy": proxy,
           "NO_PROXY": "", "no_proxy": ""}
    env.pop("SIXBTC__EXCHANGE__AGENT_PRIVATE_KEY", None)
    try:
        res = subprocess.run([sys.executable, "-c", CHILD.format(here=str(HERE), report=str(report),
                                                                 home=str(c.home.root))],
                             capture_output=True, text=True, timeout=300, env=env)
    finally:
        trap.shutdown()
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert len(c.trading.trades(sid)) > 0  # the paper session really traded
    seen = json.loads(report.read_text())
    assert seen == {"blocked": [], "signing_modules": []}
    assert _Trap.seen == [] and not any(r.startswith("POST") and r.endswith("/exchange") for r in _Trap.seen)


def test_the_guard_and_the_trap_do_catch_a_signed_request(tmp_path: Path) -> None:
    """The harness can fail: a direct connection is recorded and refused, a proxied POST to
    /exchange reaches the trap."""
    trap = ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    threading.Thread(target=trap.serve_forever, daemon=True).start()
    proxy = f"http://127.0.0.1:{trap.server_address[1]}"
    report = tmp_path / "guard.json"
    code = f"""
import socket, sys
sys.path.insert(0, {str(HERE)!r})
import network_guard
network_guard.install({str(report)!r})
import requests
for attempt in (lambda: socket.create_connection(("192.0.2.1", 443), timeout=1),
                lambda: socket.socket().connect(("192.0.2.1", 443))):
    try:
        attempt()
    except OSError:
        pass
requests.post("http://api.hyperliquid.example/exchange", json={{"action": {{}}, "signature": "0x"}})
"""
    before = len(_Trap.seen)
    try:
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60,
                       env={**os.environ, "HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "", "no_proxy": ""})
    finally:
        trap.shutdown()
    assert json.loads(report.read_text())["blocked"] == ["getaddrinfo 192.0.2.1", "connect ('192.0.2.1', 443)"]
    assert _Trap.seen[before:] == ["POST http://api.hyperliquid.example/exchange"]
