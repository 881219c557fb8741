"""Mutating routes (``POST /api/...``): token and Origin checked first (:mod:`sixbtc.api.security`);
each action is recorded as an event naming who and when. The emergency stop and the end of a
halt are the use cases of ``sixbtc emergency-stop`` and ``sixbtc resume``
(:mod:`sixbtc.app.emergency`, the ``trading_states`` table); pause, resume, retire and re-test
of one strategy are :mod:`sixbtc.app.controls`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from sixbtc.api.security import origin_allowed, token_matches
from sixbtc.app import controls, emergency
from sixbtc.app.container import Container
from sixbtc.domain.risk import GLOBAL_SCOPE

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
    """``close``: also close every position (``sixbtc emergency-stop --close-positions``)."""

    close: bool = Field(False, description="Also close every position with reduce-only market orders")


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
    """Halt all trading, as ``sixbtc emergency-stop``: the global trading state becomes HALTED
    (the executor sends nothing from its next pass on), every open order of every sub-account
    is cancelled on the venue and, with ``close``, every position is closed. Answers the
    report (``complete`` False when something is left or the venue could not be reached:
    trading stays HALTED either way)."""
    st = request.app.state.sixbtc
    c, close = st.container, bool(body and body.close)
    report = emergency.emergency_stop(c.trading_states, c.strategies, lambda: st.open_venue(c),
                                      close_positions=close, who=_who(who, body))
    return report.as_dict()


@router.post("/emergency-stop/clear", summary="End the trading halt",
             responses={**AUTH, 409: {"description": "Trading is ACTIVE already"}})
def clear_halt(request: Request, who: Who, body: Actor | None = None) -> Json:
    """Set global trading ACTIVE again, as ``sixbtc resume``; strategies paused one by one
    stay paused until resumed."""
    c = _c(request)
    before = emergency.resume(c.trading_states, c.strategies, GLOBAL_SCOPE, _who(who, body))
    if before is None:
        raise HTTPException(409, "trading is ACTIVE already")
    return {"state": "ACTIVE", "was": str(before.state)}


@router.post("/strategies/{strategy_id}/pause", summary="Pause a LIVE strategy", responses=STRATEGY)
def pause(request: Request, strategy_id: StrategyId, who: Who, body: Actor | None = None) -> Json:
    """Its trading state becomes REDUCING: no new entries, the executor winds its positions
    down (reduce-only). It stays LIVE."""
    return _strategy_action(controls.pause, request, strategy_id, _who(who, body))


@router.post("/strategies/{strategy_id}/resume", summary="Resume a paused strategy", responses=STRATEGY)
def resume(request: Request, strategy_id: StrategyId, who: Who, body: Actor | None = None) -> Json:
    """Its own trading state becomes ACTIVE again, as ``sixbtc resume --strategy ID`` (a global
    halt still applies)."""
    return _strategy_action(controls.resume, request, strategy_id, _who(who, body))


@router.post("/strategies/{strategy_id}/retire", summary="Retire a strategy", responses=STRATEGY)
def retire(request: Request, strategy_id: StrategyId, who: Who, body: Actor | None = None) -> Json:
    """ACTIVE or LIVE → RETIRED (a LIVE one is wound down by the executor)."""
    return _strategy_action(controls.retire, request, strategy_id, _who(who, body))


@router.post("/strategies/{strategy_id}/retest", summary="Trigger a re-test", responses=STRATEGY)
def retest(request: Request, strategy_id: StrategyId, who: Who, body: Actor | None = None) -> Json:
    """Make an ACTIVE strategy due for a re-test now (the next re-tester runs it)."""
    return _strategy_action(controls.request_retest, request, strategy_id, _who(who, body))
