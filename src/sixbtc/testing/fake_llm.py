"""A local fake of an OpenAI-compatible chat-completions server, for tests.

A real HTTP server (``http.server``) on ``127.0.0.1`` and a free port, in a daemon thread;
the client under test talks to it through real httpx. Each request is recorded (path,
headers, JSON body) in :attr:`FakeLLMServer.requests`, and answered from the queue of
:class:`Reply` objects given to :meth:`FakeLLMServer.reply` (the last one repeats).

Example
-------
>>> with FakeLLMServer() as server:                       # doctest: +SKIP
...     server.reply(Reply.chat("```python\\nclass Strategy_MOM_1: ...\\n```"))
...     url = server.base_url                             # 'http://127.0.0.1:PORT/v1'
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One canned answer: HTTP ``status``, raw ``body`` bytes, and ``delay_s`` before it."""

    status: int = 200
    body: bytes = b""
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})

    @classmethod
    def chat(cls, content: str, delay_s: float = 0.0) -> Reply:
        """A well-formed chat-completions answer whose message text is ``content``."""
        payload = {"id": "chatcmpl-fake", "object": "chat.completion", "model": "fake",
                   "choices": [{"index": 0, "finish_reason": "stop",
                                "message": {"role": "assistant", "content": content}}]}
        return cls(200, json.dumps(payload).encode(), delay_s)

    @classmethod
    def error(cls, status: int, message: str = "error") -> Reply:
        """An OpenAI-style error body with ``status``."""
        return cls(status, json.dumps({"error": {"message": message}}).encode())


@dataclass
class Recorded:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    body: Any


class FakeLLMServer:
    """Context manager running the fake server; see the module docstring."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._replies: list[Reply] = [Reply.chat("no code here")]
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def reply(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies`` in order; the last one repeats."""
        with self._lock:
            self._replies = list(replies)

    def _next(self) -> Reply:
        with self._lock:
            return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw
                server.requests.append(Recorded(self.path, dict(self.headers.items()), body))
                reply = server._next()
                time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return

        return Handler

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
