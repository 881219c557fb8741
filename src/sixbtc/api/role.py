"""The api role (``sixbtc worker api``): uvicorn in a thread, stopped by SIGTERM.

It lives here, not in :mod:`sixbtc.app.roles`, because only the entry points may import the
web stack. SIGTERM sets the role's stop event; uvicorn is then asked to finish its requests
and stop (``should_exit``), within ``processes.stop_timeout_s``.
"""

from __future__ import annotations

import structlog

from sixbtc.api.server import prepare, serve_in_thread
from sixbtc.app.roles.runtime import RoleRuntime

log = structlog.get_logger("sixbtc.role")


def run_api(rt: RoleRuntime) -> None:
    """Serve the API, the WebSocket, the dashboard and ``/metrics`` until stopped.

    Raises
    ------
    ConfigError
        A non-loopback ``api.host`` without a strong token (:func:`sixbtc.api.server.prepare`).
    """
    server, info = prepare(rt.c)
    thread = serve_in_thread(server)
    log.info("api serving", url=info.url, token_source=info.source)
    while thread.is_alive() and rt.wait(0.5):
        pass
    server.should_exit = True
    thread.join(rt.c.settings.processes.stop_timeout_s)
