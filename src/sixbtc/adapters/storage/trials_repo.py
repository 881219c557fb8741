"""The trial ledger: every parameter-set × coin simulation the factory's search ran.

Compact by design: one row per (strategy, timeframe, search rung) — not per simulation
(~10⁵ per strategy). A row holds the rung's coins (JSON), the positions of its parameter
sets in the strategy's sampled list, and float32 ``(n_sets, n_coins)`` arrays of the IS
Sharpe (annualised), total return (fraction) and trade count, packed with
:func:`numpy.savez_compressed` in ``data``. The sampled parameter list itself is stored
once per strategy and timeframe, on its rung-0 row (``params``). A rung-0 row may also hold,
in the same blob, a few of the searched sets' IS+OOS daily returns on the screening coins
(``daily`` float32 ``(n_days, k)``, ``days`` int32 ``(n_days,)``): the trial return series
of the factory's effective number of trials (:mod:`sixbtc.scorer.effective_trials`).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, delete, func, insert, select

from sixbtc.adapters.storage.tables import TrialRow
from sixbtc.core.clock import Clock, LiveClock

T = TrialRow.__table__
ARRAYS = ("sharpe", "total_return", "n_trades")


def pack(set_indices: np.ndarray, arrays: dict[str, np.ndarray],
         series: tuple[np.ndarray, np.ndarray] | None = None) -> bytes:
    """``npz`` bytes of the set positions (int32) and the metric arrays (float32), and
    optionally ``series`` = (days, daily returns ``(n_days, k)``) as ``days``/``daily``.

    Raises
    ------
    ValueError
        If an array of :data:`ARRAYS` is missing or its first axis differs from ``set_indices``.
    """
    idx = np.asarray(set_indices, dtype=np.int32)
    out = {"set_indices": idx}
    for name in ARRAYS:
        if name not in arrays:
            raise ValueError(f"trial ledger: array {name!r} is missing")
        a = np.asarray(arrays[name], dtype=np.float32)
        if a.ndim != 2 or a.shape[0] != idx.shape[0]:
            raise ValueError(f"trial ledger: {name} must be (n_sets={idx.shape[0]}, n_coins), got {a.shape}")
        out[name] = a
    if series is not None:
        days, daily = np.asarray(series[0], dtype=np.int32), np.asarray(series[1], dtype=np.float32)
        if daily.ndim != 2 or daily.shape[0] != days.shape[0]:
            raise ValueError(f"trial ledger: daily returns must be (n_days={days.shape[0]}, k), got {daily.shape}")
        out.update(days=days, daily=daily)
    buf = io.BytesIO()
    np.savez_compressed(buf, **out)
    return buf.getvalue()


def unpack(data: bytes) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack`: ``set_indices`` and the :data:`ARRAYS`."""
    with np.load(io.BytesIO(data)) as z:
        return {k: z[k] for k in z.files}


class TrialRepository:
    """Trial ledger (see the module docstring). Rows are only added, except that a strategy's
    first-backtest rows are replaced as a whole when its backtest runs again after a crash
    (:meth:`replace_search`): the same configurations on the same data count once."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or LiveClock()

    def add_rung(self, strategy_id: int, code_hash: str, timeframe: str, rung: int,
                 window: tuple[datetime, datetime], symbols: list[str], set_indices: np.ndarray,
                 arrays: dict[str, np.ndarray], *, kind: str = "search",
                 params: list[dict[str, Any]] | None = None,
                 series: tuple[np.ndarray, np.ndarray] | None = None) -> int:
        """Record one rung: ``len(set_indices)`` sets × ``len(symbols)`` coins on ``window``
        (IS start, IS end). Returns the number of simulations recorded.

        Raises
        ------
        ValueError
            As :func:`pack`, or when the arrays' second axis is not ``len(symbols)``.
        """
        with self.engine.begin() as conn:
            return self.add_rung_in(conn, strategy_id, code_hash, timeframe, rung, window, symbols, set_indices,
                                    arrays, kind=kind, params=params, series=series)

    def add_rung_in(self, conn: Connection, strategy_id: int, code_hash: str, timeframe: str, rung: int,
                    window: tuple[datetime, datetime], symbols: list[str], set_indices: np.ndarray,
                    arrays: dict[str, np.ndarray], *, kind: str = "search",
                    params: list[dict[str, Any]] | None = None,
                    series: tuple[np.ndarray, np.ndarray] | None = None) -> int:
        """:meth:`add_rung` inside the caller's transaction ``conn``."""
        blob = pack(set_indices, arrays, series)
        n_sets, n_coins = len(set_indices), len(symbols)
        if any(np.shape(arrays[k])[1] != n_coins for k in ARRAYS):
            raise ValueError(f"trial ledger: arrays must have {n_coins} coin columns ({symbols})")
        conn.execute(insert(T).values(
            strategy_id=strategy_id, code_hash=code_hash, timeframe=timeframe, kind=kind, rung=rung,
            window_start=window[0], window_end=window[1], n_sets=n_sets, n_coins=n_coins,
            n_simulations=n_sets * n_coins, symbols=list(symbols), params=params, data=blob,
            created_at=self.clock.now()))
        return n_sets * n_coins

    def replace_search(self, conn: Connection, strategy_id: int) -> int:
        """Delete, inside ``conn``, the strategy's first-backtest (``kind="search"``) rows, before
        the rows of its (re-)run are added in the same transaction; returns the rows deleted.
        A backtester killed after recording part of a strategy's rungs leaves the claim to a
        restart, which runs the same search again: without this its rungs would count twice."""
        return int(conn.execute(delete(T).where(T.c.strategy_id == strategy_id, T.c.kind == "search")).rowcount)

    def count(self) -> int:
        """Total simulations in the ledger (sum over rows of sets × coins)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.sum(T.c.n_simulations), 0))).scalar_one())

    def trials_for(self, strategy_id: int) -> list[dict[str, Any]]:
        """The ledger rows of a strategy, oldest first, with ``data`` unpacked into
        ``set_indices`` and the :data:`ARRAYS`."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(T).where(T.c.strategy_id == strategy_id).order_by(T.c.id)).all()
        out = []
        for r in rows:
            d = dict(r._mapping)
            d.update(unpack(d.pop("data")))
            out.append(d)
        return out

    def _window_rows(self, window: tuple[datetime, datetime]) -> Any:
        return (T.c.rung == 0, T.c.kind == "search", T.c.window_start == window[0], T.c.window_end == window[1])

    def window_rows(self, window: tuple[datetime, datetime]) -> int:
        """Rung-0 search rows recorded on ``window`` (IS start, IS end)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(*self._window_rows(window))).scalar_one())

    def window_series(self, window: tuple[datetime, datetime], limit: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """(days, daily returns ``(n_days, k)``) of the newest ``limit`` rung-0 search rows on
        ``window`` that hold trial return series, newest first."""
        q = select(T.c.data).where(*self._window_rows(window)).order_by(T.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            blobs = [r[0] for r in conn.execute(q)]
        out = []
        for b in blobs:
            z = unpack(b)
            if "daily" in z:
                out.append((z["days"].astype(np.int64), z["daily"].astype(np.float64)))
        return out

    def configs_for(self, strategy_id: int) -> int:
        """Parameter-set × timeframe configurations searched for a strategy (rung-0 sets)."""
        q = select(func.coalesce(func.sum(T.c.n_sets), 0)).where(T.c.strategy_id == strategy_id, T.c.rung == 0,
                                                                  T.c.kind == "search")
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())
