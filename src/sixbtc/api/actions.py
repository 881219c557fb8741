"""Mutating routes (``POST /api/...``): token and Origin checked first (:mod:`sixbtc.api.security`);
each action is recorded as an event naming who and when (:mod:`sixbtc.app.controls`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from sixbtc.api.security import origin_allowed, token_matches
from sixbtc.app import controls
from sixbtc.app.container import Container

bearer = HTTPBearer(auto_error=False, description="The API token (api.token or HOME/api_token)")
Json = dict[str, Any]
StrategyId = Annotated[int, PathParam(ge=1, le=2**62, description="Strategy id")]
AUTH = {400: {"description": "Malformed body"}, 401: {"description": "No token"},
        403: {"description": "Wrong token or Origin not allowed"}}
STRATEGY = {**AUTH, 404: {"description": "No such strategy"},
            409: {"description": "The action does not apply to the strategy's status"}}


def authorised(request: Request,
               creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    """Check the Origin and the bearer token; return who acts (``api@CLIENT_HOST``).

    Raises
    ------
    HTTPException
        403 for an Origin not allowed or a wrong token, 401 without a token.
    """
    st = request.app.state.sixbtc
    if not origin_allowed(request.headers.get("origin"), st.origins):
        raise HTTPException(403, "Origin not allowed")
    if creds is None or not creds.credentials:
        raise HTTPException(401, "token required (Authorization: Bearer TOKEN)",
                            headers={"WWW-Authenticate": "Bearer"})
    if not token_matches(creds.credentials, st.token):
        raise HTTPException(403, "wrong token")
    return f"api@{request.client.host if request.client else 'unknown'}"


router = APIRouter(prefix="/api", tags=["actions"], dependencies=[Depends(authorised)])
Who = Annotated[str, Depends(authorised)]


class Actor(BaseModel):
    """Optional name of the person acting, recorded in the event (``NAME via api@HOST``)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    actor: str | None = Field(None, pattern=r"^[A-Za-z0-9_.@ -]{1,64}$", description="Who acts (free label)")


class EmergencyStop(Actor):
    """``close``: also retire the LIVE strategies (see :func:`sixbtc.app.controls.emergency_stop`)."""

    close: bool = Field(False, description="Also retire every LIVE strategy (positions closed at market)")


def _who(who: str, body: Actor | None) -> str:
    return f"{body.actor} via {who}" if body is not None and body.actor else who


def _c(request: Request) -> Container:
    return request.app.state.sixbtc.container


def _strategy_action(fn: Any, request: Request, strategy_id: int, who: str) -> Json:
    try:
        return fn(_c(request), strategy_id, who)
    except controls.UnknownStrategy as exc:
        raise HTTPException(404, str(exc)) from exc
    except controls.ActionRefused as exc:
        raise HTTPException(409, str(exc)) from exc


@router.post("/emergency-stop", summary="Emergency stop", responses=AUTH)
def emergency_stop(request: Request, who: Who, body: EmergencyStop | None = None) -> Json:
    """Halt trading: pause every LIVE strategy (with ``close``: retire them) and keep any
    strategy promoted later halted until the halt is cleared."""
    return controls.emergency_stop(_c(request), _who(who, body), close=bool(body and body.close))


@router.post("/emergency-stop/clear", summary="End the trading halt", responses={**AUTH, 409: {"description": "Not halted"}})
def clear_halt(request: Request, who: Who, body: Actor | None = None) -> Json:
    """End the halt; paused strategies stay paused until resumed one by one."""
    try:
        return controls.clear_halt(_c(request), _who(who, body))
    except controls.ActionRefused as exc:
        raise HTTPException(409, str(exc)) from exc


@router.post("/strategies/{strategy_id}/pause", summary="Pause a LIVE strategy", responses=STRATEGY)
def pause(request: Request, strategy_id: StrategyId, who: Who, body: Actor | None = None) -> Json:
    """No new entries; the executor closes its positions. It stays LIVE."""
    return _strategy_action(controls.pause, request, strategy_id, _who(who, body))


@router.post("/strategies/{strategy_id}/resume", summary="Resume a paused LIVE strategy", responses=STRATEGY)
def resume(request: Request, strategy_id: StrategyId, who: Who, body: Actor | None = None) -> Json:
    """Let a paused strategy trade again."""
    return _strategy_action(controls.resume, request, strategy_id, _who(who, body))


@router.post("/strategies/{strategy_id}/retire", summary="Retire a strategy", responses=STRATEGY)
def retire(request: Request, strategy_id: StrategyId, who: Who, body: Actor | None = None) -> Json:
    """ACTIVE or LIVE → RETIRED (a LIVE one is wound down by the executor)."""
    return _strategy_action(controls.retire, request, strategy_id, _who(who, body))


@router.post("/strategies/{strategy_id}/retest", summary="Trigger a re-test", responses=STRATEGY)
def retest(request: Request, strategy_id: StrategyId, who: Who, body: Actor | None = None) -> Json:
    """Make an ACTIVE strategy due for a re-test now (the next re-tester runs it)."""
    return _strategy_action(controls.request_retest, request, strategy_id, _who(who, body))
