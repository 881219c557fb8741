"""Grid simulations as self-contained jobs, so that a rung of the parameter search can run
anywhere: in this process (:class:`LocalGridRunner`) or on a cluster (a
:class:`~sixbtc.backtester.ports.GridRunner` adapter, e.g. Dask).

A :class:`GridJob` holds everything one ``(coin, parameter sets, window)`` simulation needs:
the coin's OHLC and funding arrays and the sets' signals *already computed* (in the
sandbox of the process that built the job, :meth:`~sixbtc.backtester.coinset.CoinSeries.grid_job`),
so running it executes no strategy code, only the engine's kernels. :func:`run_grid_job` is
the one simulation routine both runners call, so the metrics are the same bit for bit
wherever a job runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sixbtc.backtester.engine import run_grid, run_single
from sixbtc.backtester.engine_grid import run_grid_levels, run_single_grid
from sixbtc.backtester.metrics import GridResult


@dataclass(frozen=True)
class GridJob:
    """One grid simulation: ``n`` parameter sets of one coin traded on bars ``[start, end)``.

    Attributes
    ----------
    data : dict of str -> numpy.ndarray
        ``open``/``high``/``low``/``close`` float64 ``(n_bars,)``, quote-currency prices.
    funding : numpy.ndarray
        float64 ``(n_bars,)``, rate (fraction) settled at each bar's open.
    entries, exits : numpy.ndarray
        ``(n_bars, n)``: bool signals, or a grid strategy's float64 ``center, step``; Fortran-ordered
        as :meth:`~sixbtc.backtester.coinset.CoinSeries.grid_job` builds them (any order is accepted,
        C order costs the engine one transposing copy).
    sl_pct : numpy.ndarray
        float64 ``(n,)``, stop distance (fraction).
    extra : numpy.ndarray
        ``(n,)``: ``tp_pct`` float64 (signal strategies) or ``levels`` int64 (grid strategies).
    direction : int
        +1 long, -1 short.
    fee_rate, slippage_bps : float
        Fee per side (fraction of notional), adverse slippage (basis points).
    sizing : dict
        Engine sizing keywords (:func:`~sixbtc.backtester.coinset.sizing_kwargs`; signal engine only).
    start, end : int
        Bar window.
    bars_per_year : float
        Annualisation factor.
    """

    data: dict[str, np.ndarray] = field(repr=False)
    funding: np.ndarray = field(repr=False)
    entries: np.ndarray = field(repr=False)
    exits: np.ndarray = field(repr=False)
    sl_pct: np.ndarray
    extra: np.ndarray
    direction: int
    fee_rate: float
    slippage_bps: float
    sizing: dict[str, Any]
    start: int
    end: int
    bars_per_year: float

    @property
    def n_sets(self) -> int:
        """Parameter sets in the job."""
        return int(self.sl_pct.shape[0])


def run_grid_job(job: GridJob) -> GridResult:
    """Simulate ``job``; metrics of shape ``(job.n_sets,)`` (:class:`GridResult`).

    One set runs through the serial kernel: the parallel grid kernel's thread start-up costs
    1-15 ms per call on busy cores (measured), more than the simulation of one set itself; the
    metrics are bit-identical either way.

    Raises
    ------
    ValueError
        As the engine functions, for inconsistent arrays.
    """
    d, grid = job.data, job.entries.dtype == np.float64
    common = dict(direction=job.direction, fee_rate=job.fee_rate, slippage_bps=job.slippage_bps,
                  funding_rate=job.funding, start=job.start, end=job.end, bars_per_year=job.bars_per_year)
    prices = (d["open"], d["high"], d["low"], d["close"])
    if job.n_sets == 1:
        if grid:
            m = run_single_grid(*prices, np.ascontiguousarray(job.entries[:, 0]), np.ascontiguousarray(job.exits[:, 0]),
                                levels=int(job.extra[0]), sl_pct=float(job.sl_pct[0]), **common).metrics
        else:
            m = run_single(*prices, job.entries[:, 0], job.exits[:, 0], sl_pct=float(job.sl_pct[0]),
                           tp_pct=float(job.extra[0]), **common, **job.sizing).metrics
        return GridResult(**{k: np.array([getattr(m, k)], dtype=np.int64 if k == "n_trades" else np.float64)
                             for k in GridResult.__dataclass_fields__})
    if grid:
        return run_grid_levels(*prices, job.entries, job.exits, job.extra, job.sl_pct, **common)
    return run_grid(*prices, job.entries, job.exits, job.sl_pct, job.extra, **common, **job.sizing)


class LocalGridRunner:
    """Runs every job in this process, in order (the default ``backtest.executor: local``)."""

    def run(self, jobs: Sequence[GridJob]) -> list[GridResult]:
        """Results of ``jobs``, in their order."""
        return [run_grid_job(j) for j in jobs]
