"""The rows of ``sixbtc pool``: the ACTIVE strategies with their selection statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sixbtc.app.container import Container
from sixbtc.core.errors import ConfigError
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus

#: Keys of one row of :func:`pool_view`, in display order.
ROW_KEYS = ("name", "type", "timeframe", "score", "dsr", "pbo", "trials", "oos_sharpe", "retest_oos_sharpe",
            "excess_return", "confirm_return", "confirm_percentile", "last_backtested_at", "last_retest_at")


def _iso(ts: datetime | str | None) -> str | None:
    if ts is None:
        return None
    return ts if isinstance(ts, str) else ts.isoformat()


def pool_row(rec: StrategyRecord) -> dict[str, Any]:
    """One pool member as a JSON-ready dict (missing values are None).

    Parameters
    ----------
    rec : StrategyRecord
        An ACTIVE strategy.

    Returns
    -------
    dict
        ``name``, ``type``, ``timeframe``, ``score`` (0–100), ``dsr`` (deflated-Sharpe probability,
        0–1, Bailey & López de Prado 2014), ``pbo`` (probability of backtest overfitting, 0–1,
        Bailey et al. 2017), ``trials`` (configurations tried behind the selection),
        ``oos_sharpe`` (annualised OOS Sharpe of the selecting backtest, ``metrics["sharpe"]``),
        ``retest_oos_sharpe`` (OOS Sharpe of the last scored re-test), ``last_backtested_at``
        (ISO-8601 UTC, the last backtest or re-test attempt) and ``last_retest_at`` (ISO-8601
        UTC of the last scored re-test, ``metrics["retest"]["at"]``; None if never re-tested),
        ``excess_return`` (OOS excess over holding its direction, fraction), ``confirm_return``
        and ``confirm_percentile`` (return, fraction, and twin percentile, 0-100, on the
        confirmation window, ``metrics["confirm"]``; None when not confirmed).
    """
    m = rec.metrics or {}
    retest = m.get("retest") if isinstance(m.get("retest"), dict) else {}
    conf = m.get("confirm") if isinstance(m.get("confirm"), dict) else {}
    return {
        "name": rec.name, "type": str(rec.type), "timeframe": rec.timeframe, "score": rec.score,
        "dsr": m.get("dsr"), "pbo": m.get("pbo"), "trials": m.get("trials"), "oos_sharpe": m.get("sharpe"),
        "retest_oos_sharpe": retest.get("sharpe"), "excess_return": m.get("excess_return"),
        "confirm_return": conf.get("total_return"), "confirm_percentile": conf.get("twin_percentile"),
        "last_backtested_at": _iso(rec.last_backtested_at),
        "last_retest_at": _iso(retest.get("at")),
    }


def pool_view(c: Container, limit: int | None = None) -> dict[str, Any]:
    """The ACTIVE pool, best score first, with the pool settings.

    Parameters
    ----------
    c : Container
        Opened container (its database and ``active_pool`` settings are used).
    limit : int or None
        At most this many strategies (None = all).

    Returns
    -------
    dict
        ``{"count": n ACTIVE in total, "max_size": m, "min_score": x, "strategies": [row, ...]}``
        with rows from :func:`pool_row`, ordered by score descending (ties: older id first).

    Raises
    ------
    ConfigError
        If ``limit`` is given and is not a positive integer.
    """
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be a positive integer, got {limit}")
    ap = c.settings.active_pool
    rows = [pool_row(r) for r in c.strategies.list_by_status(StrategyStatus.ACTIVE, by_score=True, limit=limit)]
    return {"count": c.pool.stats().count, "max_size": ap.max_size, "min_score": ap.min_score, "strategies": rows}
