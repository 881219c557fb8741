"""Backtester stage: the numba backtest engine (signals -> trades -> metrics).

Public API: :func:`run_grid` (metrics of many parameter sets), :func:`run_single` (trades,
equity curve and metrics of one set), their result types and :func:`bars_per_year`.
Semantics are documented in :mod:`sixbtc.backtester.engine`, metric definitions in
:mod:`sixbtc.backtester.metrics`.
"""

from sixbtc.backtester.engine import run_grid, run_single
from sixbtc.backtester.metrics import TRADE_DTYPE, GridResult, SingleResult, bars_per_year

__all__ = ["TRADE_DTYPE", "GridResult", "SingleResult", "bars_per_year", "run_grid", "run_single"]
