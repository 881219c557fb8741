"""Read-only queries of the dashboard: events, the funnel, orders, sub-accounts, genomes.

Every method returns plain JSON-ready values (datetimes as aware UTC ``datetime``); nothing
here writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import (
    FunnelCountRow,
    OrderRow,
    PositionRow,
    StrategyEventRow,
    StrategyRow,
    SubaccountRow,
    TradeRow,
)

E = StrategyEventRow.__table__
T = StrategyRow.__table__
O = OrderRow.__table__  # noqa: E741
S = SubaccountRow.__table__
P = PositionRow.__table__
TR = TradeRow.__table__
F = FunnelCountRow.__table__


def _row(r: Any) -> dict[str, Any]:
    return {k: utc(v) if isinstance(v, datetime) else v for k, v in dict(r._mapping).items()}


class DashboardRepository:
    """Read models of the dashboard over the SixBTC tables.

    Parameters
    ----------
    engine : Engine
        Migrated database engine.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def reached(self) -> dict[str, int]:
        """Status → number of distinct strategies that ever entered it (from the events, so
        deleted rejections count too). ``GENERATED`` counts every generated strategy.

        Events older than the retention are folded into ``funnel_counts`` by
        ``cleanup_old_events``: their entries into a status (``from_status`` ≠ ``to_status``)
        are added, so the funnel keeps the factory's whole history."""
        q = (select(E.c.to_status, func.count(func.distinct(E.c.strategy_id)))
             .where(E.c.to_status.is_not(None), E.c.strategy_id.is_not(None)).group_by(E.c.to_status))
        folded = (select(F.c.to_status, func.sum(F.c.count))
                  .where(F.c.to_status != "", F.c.from_status != F.c.to_status).group_by(F.c.to_status))
        with self.engine.connect() as conn:
            out = {status: n for status, n in conn.execute(q)}
            for status, n in conn.execute(folded):
                out[status] = out.get(status, 0) + int(n or 0)
        return out

    def transitions(self, limit: int = 20_000) -> list[dict[str, Any]]:
        """The newest ``limit`` status-entry events, oldest first: ``strategy_id``,
        ``to_status`` (None = rejected), ``phase``, ``ts``."""
        q = (select(E.c.id, E.c.strategy_id, E.c.to_status, E.c.from_status, E.c.phase, E.c.ts)
             .where(E.c.strategy_id.is_not(None)).order_by(E.c.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            rows = [_row(r) for r in conn.execute(q)]
        return rows[::-1]

    def events_for(self, strategy_id: int, limit: int = 1000) -> list[dict[str, Any]]:
        """Events of one strategy, oldest first (at most the newest ``limit``)."""
        q = select(E).where(E.c.strategy_id == strategy_id).order_by(E.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)][::-1]

    def events_after(self, event_id: int, limit: int = 200) -> list[dict[str, Any]]:
        """Events with an id above ``event_id``, oldest first (at most ``limit``)."""
        q = select(E).where(E.c.id > event_id).order_by(E.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]

    def last_event_id(self) -> int:
        """The newest event id (0 when there is none)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(E.c.id))).scalar() or 0)

    def genome(self, strategy_id: int) -> dict[str, Any] | None:
        """The generator genome of a strategy (None when absent or the strategy is gone)."""
        with self.engine.connect() as conn:
            return conn.execute(select(T.c.genome).where(T.c.id == strategy_id)).scalar()

    def strategy_ids(self, names: list[str]) -> dict[str, int]:
        """Name → id of the stored strategies among ``names``."""
        if not names:
            return {}
        with self.engine.connect() as conn:
            return dict(conn.execute(select(T.c.name, T.c.id).where(T.c.name.in_(names))).all())

    def names(self, ids: set[int]) -> dict[int, str]:
        """Id → name of the stored strategies among ``ids``."""
        if not ids:
            return {}
        with self.engine.connect() as conn:
            return dict(conn.execute(select(T.c.id, T.c.name).where(T.c.id.in_(sorted(ids)))).all())

    def orders(self, limit: int = 200, strategy_id: int | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` orders, newest first (of one strategy, or all)."""
        q = select(O).order_by(O.c.id.desc()).limit(limit)
        if strategy_id is not None:
            q = q.where(O.c.strategy_id == strategy_id)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]

    def subaccounts(self) -> list[dict[str, Any]]:
        """Every sub-account with its realised PnL (``balance_usd - capital_usd``, USD), open
        positions and trade count of the attached strategy, by label."""
        with self.engine.connect() as conn:
            subs = [_row(r) for r in conn.execute(select(S).order_by(S.c.label))]
            n_open = dict(conn.execute(select(P.c.subaccount, func.count()).where(P.c.is_open.is_(True))
                                       .group_by(P.c.subaccount)).all())
            trades = dict(conn.execute(select(TR.c.strategy_id, func.count()).group_by(TR.c.strategy_id)).all())
        for s in subs:
            s["realised_pnl_usd"] = round(s["balance_usd"] - s["capital_usd"], 6)
            s["open_positions"] = n_open.get(s["label"], 0)
            s["trades"] = trades.get(s["strategy_id"], 0) if s["strategy_id"] is not None else 0
        return subs
