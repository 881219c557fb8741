"""Trading roles, one module each: rotator (:mod:`sixbtc.app.rotation`), executor on the paper
broker (:mod:`sixbtc.app.paper`), monitor (:mod:`sixbtc.app.monitoring`).

This module keeps the names other code imports from here.
"""

from __future__ import annotations

from sixbtc.app.monitoring import live_psr, monitor_now, review_live
from sixbtc.app.paper import (
    ArrayHistory,
    ReplayStats,
    SandboxSignals,
    build_executor,
    live_set,
    paper_replay,
)
from sixbtc.app.rotation import RepoRotationStore, backtest_reference, rotate_now

__all__ = [
    "ArrayHistory", "RepoRotationStore", "ReplayStats", "SandboxSignals", "backtest_reference", "build_executor",
    "live_psr", "live_set", "monitor_now", "paper_replay", "review_live", "rotate_now",
]
