"""The backtest protocol's plan from the settings, and the reproducible seeds it uses."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from sixbtc.app.window import CycleWindow
from sixbtc.backtester.plausibility import PlausibilityBounds
from sixbtc.backtester.ports import GridRunner
from sixbtc.backtester.protocol import BacktestPlan
from sixbtc.backtester.search import SearchConfig
from sixbtc.backtester.tpe import grid_count
from sixbtc.config.sections import BacktestSection
from sixbtc.domain.sizing import SizingRule
from sixbtc.strategy.contract import StrategySpec


def code_seed(code_hash: str) -> int:
    """A reproducible 64-bit seed derived from a strategy's code hash (first 16 hex digits of its SHA-256)."""
    return int(hashlib.sha256(code_hash.encode()).hexdigest()[:16], 16)


def sample_params(grid: list[dict[str, Any]], limit: int, code_hash: str) -> list[dict[str, Any]]:
    """At most ``limit`` parameter sets of ``grid``, sampled reproducibly (seeded by the code hash),
    in grid order."""
    if len(grid) <= limit:
        return grid
    rng = np.random.default_rng(code_seed(code_hash))
    return [grid[i] for i in sorted(rng.choice(len(grid), size=limit, replace=False))]


def search_space(spec: StrategySpec, bt: BacktestSection) -> dict[str, list[Any]] | None:
    """The grid TPE searches: ``spec.param_space`` when ``backtest.search_method`` is ``optuna``
    and the grid has more than ``backtest.max_param_sets`` sets, else None (the seeded sample of
    :func:`sample_params` is searched)."""
    if bt.search_method != "optuna":
        return None
    return spec.param_space if grid_count(spec.param_space) > bt.max_param_sets else None


def backtest_plan(bt: BacktestSection, window: CycleWindow, symbols_by_tf: dict[str, list[str]],
                  code_hash: str, sizing: SizingRule | None = None, runner: GridRunner | None = None) -> BacktestPlan:
    """The protocol plan from the ``backtest`` settings: IS ``[is_start, oos_start)``, OOS
    ``[oos_start, confirm_start)`` (the confirmation and replay days stay unseen, also by
    re-tests); the shuffle seed comes from the code hash (31 bits); ``sizing`` is the
    configured ``risk.sizing_rule()`` (the executor's rule; None = all-in 1x); ``runner`` where
    the search's grid simulations run (the container's ``grid_runner``; None = in process)."""
    return BacktestPlan(symbols_by_tf, window.is_start, window.oos_start, window.confirm_start, bt.warmup_bars,
                        bt.fee_rate, bt.slippage_bps, bt.min_trades, bt.max_degradation,
                        search=SearchConfig(bt.search_rungs, bt.search_eta, bt.screen_coins, bt.search_method,
                                            bt.optuna_trials),
                        wfa_windows=bt.wfa_windows, wfa_min_consistency=bt.wfa_min_consistency,
                        shuffle_permutations=bt.shuffle_permutations, shuffle_max_pvalue=bt.shuffle_max_pvalue,
                        shuffle_coins=bt.shuffle_coins, seed=code_seed(code_hash) % 2**31,
                        causality_cuts=bt.causality_cuts, plausibility=PlausibilityBounds.from_section(bt),
                        min_excess_return=bt.min_excess_return, wfa_span=bt.wfa_span, sizing=sizing,
                        degradation_basis=bt.degradation_basis, runner=runner)
