"""The factory's roles, one module each: generator (:mod:`sixbtc.app.generation`), validator
(:mod:`sixbtc.app.validation`), backtester (:mod:`sixbtc.app.backtesting`, with
:mod:`sixbtc.app.backtest_plan` and :mod:`sixbtc.app.backtest_records`) and re-tester
(:mod:`sixbtc.app.retesting`); :mod:`sixbtc.app.claim_guard` is what each claimed unit of
work runs in.

Each ``*_one`` function claims one strategy atomically, processes it and writes the verdict
with its fencing token, so any number of processes (or machines, on PostgreSQL) can run
them side by side. This module keeps the names other code imports from here.
"""

from __future__ import annotations

from sixbtc.app.backtest_plan import backtest_plan, code_seed, sample_params
from sixbtc.app.backtest_records import (
    gate_for,
    gate_verdict,
    protocol_metrics,
    record_retest_trials,
    record_trials,
    score_inputs,
)
from sixbtc.app.backtesting import backtest_one
from sixbtc.app.claim_guard import claim_guard
from sixbtc.app.generation import generate_batch
from sixbtc.app.retesting import count_due_retests, retest_due_before, retest_one
from sixbtc.app.validation import validate_one, validation_sample
from sixbtc.pool.admission import LIVE_COINS, behaviour_fingerprint

__all__ = [
    "LIVE_COINS", "backtest_one", "backtest_plan", "behaviour_fingerprint", "claim_guard", "code_seed",
    "count_due_retests", "gate_for", "gate_verdict", "generate_batch", "protocol_metrics", "record_retest_trials",
    "record_trials", "retest_due_before", "retest_one", "sample_params", "score_inputs", "validate_one",
    "validation_sample",
]
