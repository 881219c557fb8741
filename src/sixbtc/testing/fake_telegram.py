"""A local fake of the Telegram Bot API, for tests (real HTTP on ``127.0.0.1``, real httpx).

Serves ``POST /bot{token}/sendMessage`` (recorded in :attr:`FakeTelegram.sent`) and
``POST /bot{token}/getUpdates`` (the updates queued with :meth:`FakeTelegram.user_says`, with
the Bot API's ``offset`` rule: updates below the offset are confirmed and dropped). A wrong
token gets ``401 {"ok": false, "description": "Unauthorized"}``; :attr:`fail_next` makes the
next requests answer 500. Source: core.telegram.org/bots/api (sendMessage, getUpdates, Update).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class FakeTelegram:
    """Context manager running the fake Bot API for bot ``token``."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.sent: list[dict[str, Any]] = []
        self.fail_next = 0
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        """The API root (``notify.telegram_api_url``): ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def user_says(self, chat_id: int | str, text: str) -> int:
        """Queue a message ``text`` from chat ``chat_id``; returns its update id."""
        with self._lock:
            uid = self._next_update
            self._next_update += 1
            self._updates.append({"update_id": uid, "message": {"message_id": uid, "chat": {"id": int(chat_id)},
                                                                  "text": text, "date": 0}})
        return uid

    def texts(self) -> list[str]:
        """Texts of the messages sent so far."""
        with self._lock:
            return [m["text"] for m in self.sent]

    def _answer(self, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self.fail_next:
                self.fail_next -= 1
                return 500, {"ok": False, "description": "Internal Server Error"}
            if method == "sendMessage":
                if "chat_id" not in body or not body.get("text"):
                    return 400, {"ok": False, "description": "Bad Request: message text is empty"}
                self.sent.append(body)
                return 200, {"ok": True, "result": {"message_id": len(self.sent), "text": body["text"]}}
            if method == "getUpdates":
                offset = int(body.get("offset") or 0)
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                return 200, {"ok": True, "result": list(self._updates)}
        return 404, {"ok": False, "description": "Not Found"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                prefix, _, method = self.path.lstrip("/").partition("/")
                if prefix != f"bot{fake.token}":
                    status, payload = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
                else:
                    status, payload = fake._answer(method, json.loads(raw or b"{}"))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                return  # quiet (and the token is in the path)

        return Handler

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
