"""``GET /metrics``: the newest metrics snapshot in the Prometheus text format (read-only, like
the other reads; the server binds to loopback by default)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sixbtc.app.metrics import CONTENT_TYPE, prometheus_text

router = APIRouter(tags=["read"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"}})
def metrics(request: Request) -> Response:
    """Gauges of the newest snapshot of the metrics collector (empty before the first)."""
    return Response(prometheus_text(request.app.state.sixbtc.container), media_type=CONTENT_TYPE)
