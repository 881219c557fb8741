"""The ``market_regimes`` table: regime readings per coin and timeframe, newest wins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select

from sixbtc.adapters.storage.mapping import utc
from sixbtc.adapters.storage.tables import MarketRegimeRow
from sixbtc.core.clock import Clock, LiveClock
from sixbtc.domain.regime import MarketRegime, RegimeReading

R = MarketRegimeRow.__table__
_FIELDS = ("symbol", "timeframe", "breakout_metric", "reversal_metric", "n_trades", "window_start", "window_end")


def _reading(m: Any) -> RegimeReading:
    return RegimeReading(m["symbol"], m["timeframe"], MarketRegime(m["regime"]), m["breakout_metric"],
                         m["reversal_metric"], m["n_trades"], utc(m["window_start"]), utc(m["window_end"]),
                         utc(m["computed_at"]))


class RegimeRepository:
    """Appends readings (one computation = one timestamp for all its rows) and reads the newest."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or LiveClock()

    def add_many(self, readings: Iterable[RegimeReading]) -> int:
        """Store ``readings`` stamped with the clock's now (their ``computed_at`` is ignored);
        return how many."""
        now = self.clock.now()
        values = [{**{k: getattr(r, k) for k in _FIELDS}, "regime": str(r.regime), "computed_at": now}
                  for r in readings]
        if values:
            with self.engine.begin() as conn:
                conn.execute(insert(R), values)
        return len(values)

    def latest(self, timeframe: str | None = None) -> dict[tuple[str, str], RegimeReading]:
        """The newest reading of every (symbol, timeframe), optionally of one timeframe only."""
        newest = (select(R.c.symbol, R.c.timeframe, func.max(R.c.computed_at).label("at"))
                  .group_by(R.c.symbol, R.c.timeframe))
        if timeframe is not None:
            newest = newest.where(R.c.timeframe == timeframe)
        sub = newest.subquery()
        q = (select(R).join(sub, (R.c.symbol == sub.c.symbol) & (R.c.timeframe == sub.c.timeframe)
                            & (R.c.computed_at == sub.c.at)).order_by(R.c.symbol, R.c.timeframe, R.c.id))
        with self.engine.connect() as conn:
            return {(r.symbol, r.timeframe): _reading(r._mapping) for r in conn.execute(q)}

    def last_computed_at(self) -> datetime | None:
        """When the newest reading was stored (None: never)."""
        with self.engine.connect() as conn:
            return utc(conn.execute(select(func.max(R.c.computed_at))).scalar())

    def prune(self, before: datetime) -> int:
        """Delete readings computed before ``before``; return how many."""
        with self.engine.begin() as conn:
            return conn.execute(delete(R).where(R.c.computed_at < before)).rowcount or 0
