"""Serving the API with uvicorn, in the foreground (``sixbtc api``) or in a thread (``sixbtc run --dashboard``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import uvicorn

from sixbtc.api.app import create_app
from sixbtc.api.security import check_bind
from sixbtc.app.api_token import resolve_token
from sixbtc.app.container import Container


@dataclass(frozen=True)
class ServerInfo:
    """Where the dashboard listens: ``url`` (http://HOST:PORT/), ``token`` and its ``source``
    (``api.token`` or the token file)."""

    url: str
    token: str
    source: str

    @property
    def login_url(self) -> str:
        """The URL with the token in its fragment (never sent to the server, nor logged)."""
        return f"{self.url}#token={self.token}"


def prepare(c: Container, host: str | None = None, port: int | None = None) -> tuple[uvicorn.Server, ServerInfo]:
    """A configured uvicorn server for the dashboard and what to tell the user.

    Raises
    ------
    ConfigError
        A non-loopback host without a strong token (``api.token``), or a bad token file.
    """
    host = host or c.settings.api.host
    port = port or c.settings.api.port
    token, source = resolve_token(c)
    check_bind(host, token)
    app = create_app(c, token, host=host, port=port)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, log_config=None,
                            ws="websockets-sansio", lifespan="off", server_header=False)
    shown = f"[{host}]" if ":" in host else host
    return uvicorn.Server(config), ServerInfo(f"http://{shown}:{port}/", token, source)


def serve_in_thread(server: uvicorn.Server) -> threading.Thread:
    """Run ``server`` in a daemon thread (signals stay with the main thread); returns the thread."""
    thread = threading.Thread(target=server.run, name="sixbtc-api", daemon=True)
    thread.start()
    return thread
