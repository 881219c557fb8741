"""``sixbtc api``: serve the REST API, the WebSocket and the dashboard (uvicorn, foreground)."""

from __future__ import annotations

import typer

from sixbtc.cli.context import console, friendly_errors, open_container


def api(ctx: typer.Context,
        host: str | None = typer.Option(None, "--host", help="Bind address (default api.host, 127.0.0.1)."),
        port: int | None = typer.Option(None, "--port", min=1, max=65535, help="Port (default api.port, 8080).")) -> None:
    """Serve the dashboard and its API; prints the URL and the token (see README "Dashboard")."""
    c = open_container(ctx)
    with friendly_errors():
        from sixbtc.api.server import prepare

        _ = c.engine  # an unreachable database fails now
        server, info = prepare(c, host, port)
    show_dashboard(info)
    server.run()


def show_dashboard(info: object) -> None:
    """Print the dashboard's URL, its login URL (token in the fragment) and where the token is kept."""
    console.print(f"dashboard: {info.url}", highlight=False)
    console.print(f"token: {info.token}  (from {info.source}; actions and the live feed need it)", highlight=False,
                  soft_wrap=True)
    console.print(f"open: {info.login_url}", highlight=False, soft_wrap=True)
