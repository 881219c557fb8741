"""The FastAPI application factory: REST under ``/api``, the WebSocket ``/api/ws``, the
dashboard's static files at ``/`` and the OpenAPI schema at ``/openapi.json``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from sixbtc.api import actions, reads, ws
from sixbtc.api.security import allowed_origins
from sixbtc.app.container import Container
from sixbtc.app.venues import open_venue as open_home_venue
from sixbtc.core.errors import SixbtcError
from sixbtc.executor.venue import ExchangeClient

#: The built dashboard (``make`` runs ``npm ci && npm run build`` in ``web/``).
DEFAULT_STATIC = Path(__file__).resolve().parents[3] / "web" / "dist"

NOT_BUILT = """<!doctype html><html><head><meta charset="utf-8"><title>SixBTC</title></head>
<body><h1>SixBTC API</h1><p>The dashboard is not built: run <code>make run</code> (or <code>make web</code>).
The API is at <a href="/docs">/docs</a>.</p></body></html>"""


@dataclass(frozen=True)
class ApiState:
    """What every route needs: the container, the token, the allowed origins, the push period
    and how the emergency stop opens the execution venue."""

    container: Container
    token: str
    origins: frozenset[str]
    push_interval_s: float
    open_venue: Callable[[Container], ExchangeClient]


def create_app(c: Container, token: str, *, static_dir: Path | None = DEFAULT_STATIC,
               push_interval_s: float | None = None, host: str | None = None, port: int | None = None,
               open_venue: Callable[[Container], ExchangeClient] = open_home_venue) -> FastAPI:
    """Build the application over an opened container.

    Parameters
    ----------
    c : Container
        Opened container (its database is migrated on first use).
    token : str
        The token mutating routes and the WebSocket require (:mod:`sixbtc.api.security`).
    static_dir : Path or None
        The built dashboard served at ``/``; absent or None: ``/`` says how to build it.
    push_interval_s : float or None
        Seconds between WebSocket change checks (None: ``api.push_interval_s``).
    host, port : str, int or None
        Where the server listens (None: ``api.host``, ``api.port``): its own origins are allowed.
    open_venue : callable
        Builds the execution venue the emergency stop cancels and closes on (default: the
        home's, :func:`sixbtc.app.venues.open_venue`, as ``sixbtc emergency-stop``).
    """
    api = c.settings.api
    app = FastAPI(title="SixBTC", version="0.1.0",
                  description="Read the strategy factory and steer it: pipeline, pool, strategies, "
                              "positions, data; emergency stop, pause, resume, retire, re-test.")
    app.state.sixbtc = ApiState(c, token, allowed_origins(host or api.host, port or api.port, api.allowed_origins),
                                push_interval_s or api.push_interval_s, open_venue)
    app.include_router(reads.router)
    app.include_router(actions.router)
    app.include_router(ws.router)

    @app.exception_handler(SixbtcError)
    async def _sixbtc_error(_request: Request, exc: SixbtcError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    if static_dir is not None and (static_dir / "index.html").is_file():
        app.mount("/", StaticFiles(directory=static_dir, html=True), name="dashboard")
    else:
        @app.get("/", include_in_schema=False)
        def _not_built() -> HTMLResponse:
            return HTMLResponse(NOT_BUILT)
    return app
