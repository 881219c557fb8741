"""The WebSocket ``/api/ws``: a snapshot at connect, then changes every few seconds.

Handshake: the token in the subprotocol list (``["sixbtc", "token.TOKEN"]``, see
:mod:`sixbtc.api.security`) and an allowed Origin; refused before accepting with HTTP 401
(no token) or 403 (wrong token, Origin not allowed). Messages (JSON):

* ``{"type": "snapshot", "data": {...}}`` — :func:`sixbtc.app.live_feed.snapshot`, at connect
  and whenever it changed since the last one sent;
* ``{"type": "events", "events": [...]}`` — new strategy events, oldest first.

Every ``api.push_interval_s`` the server checks for changes (database reads in a worker thread,
never on the event loop).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from sixbtc.api.security import WS_PROTOCOL, origin_allowed, token_matches, ws_token
from sixbtc.app.live_feed import new_events, snapshot

router = APIRouter()


def _refusal(websocket: WebSocket) -> int | None:
    """HTTP status refusing the handshake (401, 403), or None when it may proceed."""
    st = websocket.app.state.sixbtc
    if not origin_allowed(websocket.headers.get("origin"), st.origins):
        return 403
    given = ws_token(list(websocket.scope.get("subprotocols") or []))
    if given is None:
        return 401
    return None if token_matches(given, st.token) else 403


async def _closed_within(websocket: WebSocket, seconds: float) -> bool:
    """Wait ``seconds`` for a client message; True when the client closed the connection
    (messages from the client are otherwise ignored)."""
    try:
        msg = await asyncio.wait_for(websocket.receive(), timeout=seconds)
    except TimeoutError:
        return False
    return msg["type"] == "websocket.disconnect"


async def _push(websocket: WebSocket, c: Any, interval: float) -> None:
    last = await run_in_threadpool(snapshot, c)
    await websocket.send_json({"type": "snapshot", "data": last})
    after = last["last_event_id"]
    while True:
        if await _closed_within(websocket, interval):
            return
        now = await run_in_threadpool(snapshot, c)
        if now["last_event_id"] > after:
            events = await run_in_threadpool(new_events, c, after)
            if events:
                after = events[-1]["id"]
                await websocket.send_json({"type": "events", "events": events})
        if {k: v for k, v in now.items() if k != "last_event_id"} != {k: v for k, v in last.items()
                                                                    if k != "last_event_id"}:
            await websocket.send_json({"type": "snapshot", "data": now})
        last = now


@router.websocket("/api/ws")
async def feed(websocket: WebSocket) -> None:
    """Push the dashboard's live state (module docstring)."""
    code = _refusal(websocket)
    if code is not None:
        await websocket.send_denial_response(PlainTextResponse(
            "token required" if code == 401 else "forbidden", status_code=code))
        return
    st = websocket.app.state.sixbtc
    await websocket.accept(subprotocol=WS_PROTOCOL)
    try:
        await _push(websocket, st.container, st.push_interval_s)
    except (WebSocketDisconnect, RuntimeError, OSError):  # the client went away mid-send
        return
