"""Read routes (``GET /api/...``): open to any client that can reach the server (bound to
loopback by default); they never return a secret (no settings, no token, no key)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam

from sixbtc.app.container import Container
from sixbtc.app.data_view import data_view
from sixbtc.app.leaderboard import leaderboard
from sixbtc.app.live_feed import new_events
from sixbtc.app.pipeline_view import pipeline_view
from sixbtc.app.status import status_report
from sixbtc.app.strategy_view import candles, strategy_detail
from sixbtc.app.trading_view import live_view
from sixbtc.core.errors import DataError
from sixbtc.domain.strategy import StrategySource, StrategyType
from sixbtc.domain.timeframe import Timeframe

router = APIRouter(prefix="/api", tags=["read"],
                   responses={400: {"description": "A SixBTC error (bad stored data, database unavailable)"}})
NOT_FOUND = {404: {"description": "No such strategy"}}
Json = dict[str, Any]
#: Coin names as the candle store holds them.
SYMBOL = r"^[A-Z0-9]{1,30}$"
#: A strategy id in the path.
StrategyId = Annotated[int, PathParam(ge=1, le=2**62, description="Strategy id")]


def container(request: Request) -> Container:
    """The application's container."""
    return request.app.state.sixbtc.container


@router.get("/health", summary="Liveness")
def health() -> Json:
    """``{"status": "ok"}`` while the server runs."""
    return {"status": "ok"}


@router.get("/status", summary="The `sixbtc status` report")
def status(request: Request) -> Json:
    """Counts per status, rejections by reason, pool statistics, LIVE set, trades, last events."""
    return status_report(container(request))


@router.get("/pipeline", summary="Pipeline health")
def pipeline(request: Request) -> Json:
    """Funnel with conversion rates, queues and back-pressure, failures by reason, time per
    stage and the trend of status changes (:func:`sixbtc.app.pipeline_view.pipeline_view`)."""
    return pipeline_view(container(request))


@router.get("/pool", summary="Pool leaderboard")
def pool(request: Request,
         type: Annotated[StrategyType | None, Query(description="Strategy type")] = None,
         timeframe: Annotated[Timeframe | None, Query(description="Timeframe")] = None,
         source: Annotated[StrategySource | None, Query(description="Generator source")] = None,
         ) -> Json:
    """ACTIVE and LIVE strategies, best score first (:func:`sixbtc.app.leaderboard.leaderboard`)."""
    return leaderboard(container(request), type_=type and str(type), timeframe=timeframe and str(timeframe),
                       source=source and str(source))


@router.get("/strategies/{strategy_id}", summary="Strategy detail", responses=NOT_FOUND)
def strategy(request: Request, strategy_id: StrategyId) -> Json:
    """Code, parameters, results per timeframe and coin, equity, trades, lineage and events."""
    detail = strategy_detail(container(request), strategy_id)
    if detail is None:
        raise HTTPException(404, f"strategy {strategy_id} does not exist")
    return detail


@router.get("/strategies/{strategy_id}/candles", summary="Candles for a strategy's trade chart",
            responses={**NOT_FOUND, 400: {"description": "Bad symbol or timeframe"}})
def strategy_candles(request: Request, strategy_id: StrategyId,
                     symbol: Annotated[str | None, Query(pattern=SYMBOL, description="Coin, e.g. BTC")] = None,
                     timeframe: Annotated[Timeframe | None, Query(description="Timeframe")] = None,
                     limit: Annotated[int, Query(ge=1, le=2000)] = 500) -> Json:
    """Stored candles of ``symbol`` (default: the strategy's first traded symbol, else its
    first coin) on ``timeframe`` (default: its own), covering its trades when it has any."""
    c = container(request)
    detail = strategy_detail(c, strategy_id)
    if detail is None:
        raise HTTPException(404, f"strategy {strategy_id} does not exist")
    trades = detail["trades"]
    sym = symbol or (trades[0]["symbol"] if trades else (detail["strategy"]["symbols"] or [None])[0])
    tf = str(timeframe) if timeframe else detail["strategy"]["timeframe"]
    if not sym or not tf:
        return {"symbol": sym, "timeframe": tf, "candles": []}
    start = end = None
    if trades and not symbol:
        first = min(datetime.fromisoformat(t["entry_ts"]) for t in trades)
        last = max(datetime.fromisoformat(t["exit_ts"]) for t in trades)
        start, end = first - timedelta(days=3), last + timedelta(days=1)
    try:
        rows = candles(c, sym, tf, start, end, limit)
    except DataError as exc:
        raise HTTPException(400, str(exc)) from exc
    return {"symbol": sym, "timeframe": tf, "candles": rows}


@router.get("/live", summary="Live / paper trading")
def live(request: Request) -> Json:
    """Positions with stops and PnL, sub-accounts, orders, kill-switch and halt state."""
    return live_view(container(request))


@router.get("/orders", summary="Orders, newest first")
def orders(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Json:
    """The newest ``limit`` orders of every strategy."""
    rows = container(request).dashboard.orders(limit)
    return {"orders": [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in o.items()} for o in rows]}


@router.get("/data", summary="Data coverage and freshness")
def data(request: Request) -> Json:
    """Coins, stored series with coverage, gaps and age (:func:`sixbtc.app.data_view.data_view`)."""
    return data_view(container(request))


@router.get("/events", summary="Strategy events after an id")
def events(request: Request, after: Annotated[int, Query(ge=0, le=2**62)] = 0,
           limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Json:
    """Events with id above ``after``, oldest first (``after=0``: from the first)."""
    return {"events": new_events(container(request), after, limit)}
