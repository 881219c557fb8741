"""The order-intent journal on the ``orders`` table: rows, compare-and-set status, fills.

Every order the executor sends is first a row in status ``intent`` (its deterministic client
order id is the row's unique key); its status then moves only along
:data:`sixbtc.domain.orders.ORDER_TRANSITIONS`, by compare-and-set: the UPDATE names the
status it expects *and* only matches rows whose status may legally move to the new one, so an
illegal or concurrent change writes nothing on SQLite and PostgreSQL alike. Venue fills are
rows of ``fills``, unique by (mode, venue trade id): a fill is recorded once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from sixbtc.adapters.storage.tables import FillRow, OrderRow
from sixbtc.domain.orders import (
    ORDER_TRANSITIONS,
    OrderSide,
    OrderStatus,
    OrderType,
    VenueFill,
    check_order_transition,
)
from sixbtc.executor.ports import JournalOrder

O = OrderRow.__table__  # noqa: E741
F = FillRow.__table__

#: Statuses of an order that may still fill or be cancelled.
LIVE_STATUSES = tuple(str(s) for s in OrderStatus if not s.is_final)


def sources_of(dst: OrderStatus) -> list[str]:
    """The statuses from which ``dst`` may be reached (:data:`ORDER_TRANSITIONS`)."""
    return [str(src) for src, dsts in ORDER_TRANSITIONS.items() if dst in dsts]


def transition_in(conn: Connection, cid: str, src: OrderStatus, dst: OrderStatus, now: datetime,
                  **values: Any) -> bool:
    """Compare-and-set the status of order ``cid`` from ``src`` to ``dst`` inside ``conn``.

    Returns
    -------
    bool
        True when the row moved; False when it was not in ``src`` (or does not exist).

    Raises
    ------
    ValueError
        When ``src → dst`` is not in :data:`ORDER_TRANSITIONS` (nothing is written).
    """
    check_order_transition(src, dst)
    res = conn.execute(update(O).where(O.c.client_order_id == cid, O.c.status == str(src),
                                       O.c.status.in_(sources_of(dst)))
                       .values(status=str(dst), updated_at=now, **values))
    return res.rowcount == 1


def insert_intent(conn: Connection, o: JournalOrder, mode: str, now: datetime) -> None:
    """Insert ``o`` in status INTENT (an existing client order id raises ``IntegrityError``)."""
    conn.execute(insert(O).values(**order_values(o), status=str(OrderStatus.INTENT), mode=mode, created_at=now,
                                  updated_at=now))


def order_values(o: JournalOrder) -> dict[str, Any]:
    """Column values of the journal row of ``o`` (status excluded)."""
    return {"client_order_id": o.client_order_id, "strategy_id": o.strategy_id, "subaccount": o.account,
            "symbol": o.symbol, "timeframe": o.timeframe, "leg": o.leg, "side": str(o.side),
            "order_type": str(o.order_type), "qty": o.qty, "price": None, "reduce_only": o.reduce_only,
            "notional_usd": o.notional_usd, "trigger_price": o.trigger_price, "sl_pct": o.sl_pct,
            "tp_pct": o.tp_pct, "signal_ms": o.signal_ms}


def journal_order(m: Any) -> JournalOrder:
    """The :class:`JournalOrder` of an ``orders`` row mapping."""
    return JournalOrder(
        client_order_id=m["client_order_id"], strategy_id=m["strategy_id"], account=m["subaccount"],
        symbol=m["symbol"], timeframe=m["timeframe"] or "", leg=m["leg"] or "", side=OrderSide(m["side"]),
        order_type=OrderType(m["order_type"]), qty=float(m["qty"] or 0.0), signal_ms=int(m["signal_ms"] or 0),
        reduce_only=bool(m["reduce_only"]), notional_usd=m["notional_usd"], trigger_price=m["trigger_price"],
        sl_pct=m["sl_pct"] or 0.0, tp_pct=m["tp_pct"] or 0.0, status=OrderStatus(m["status"]),
        filled_qty=float(m["filled_qty"] or 0.0), venue_order_id=m["venue_order_id"], acked_ms=m["acked_ms"])


def get_order(conn: Connection, cid: str) -> JournalOrder | None:
    """The journal order ``cid`` or None."""
    row = conn.execute(select(O).where(O.c.client_order_id == cid)).first()
    return journal_order(row._mapping) if row is not None else None


def insert_fill(conn: Connection, mode: str, account: str, f: VenueFill, strategy_id: int | None,
                now: datetime) -> None:
    """Record one venue fill (a second time raises ``IntegrityError``: unique (mode, trade id))."""
    conn.execute(insert(F).values(
        mode=mode, account=account, trade_id=f.trade_id, venue_order_id=f.venue_order_id,
        client_order_id=f.client_order_id, strategy_id=strategy_id, symbol=f.symbol, side=str(f.side), qty=f.qty,
        price=f.price, fee_usd=f.fee_usd, ts_ms=f.ts_ms, reduce_only=f.reduce_only, liquidation=f.liquidation,
        recorded_at=now))
