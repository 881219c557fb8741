"""What the backtest protocol needs: candles, a (sandboxed) signal source and a grid runner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sixbtc.backtester.grid_jobs import GridJob
    from sixbtc.backtester.metrics import GridResult


class CandleSource(Protocol):
    """Read access to the candle store (see ``sixbtc.data.ports.CandleStore``)."""

    def read_candles(self, symbol: str, timeframe: str, start: pd.Timestamp | None = None,
                     end: pd.Timestamp | None = None) -> pd.DataFrame: ...

    def read_funding(self, symbol: str, start: pd.Timestamp | None = None,
                     end: pd.Timestamp | None = None) -> pd.DataFrame: ...


class SignalSource(Protocol):
    """Signals of the strategy under test for many parameter sets (runs strategy code)."""

    def signals(self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """(entries, exits), bool arrays of shape (n_params, n_bars); for a grid strategy (GRD)
        (center, step), float64 of that shape (:mod:`sixbtc.strategy.signal_pairs`)."""
        ...


class GridRunner(Protocol):
    """Where the parameter search's grid simulations run (``backtest.executor``): in this
    process (:class:`~sixbtc.backtester.grid_jobs.LocalGridRunner`) or fanned out to a
    cluster (adapters). Jobs carry computed signals only, never strategy code."""

    def run(self, jobs: Sequence[GridJob]) -> list[GridResult]:
        """Results of ``jobs`` (:func:`~sixbtc.backtester.grid_jobs.run_grid_job` of each), in their order."""
        ...
