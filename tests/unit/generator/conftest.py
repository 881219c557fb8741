"""Shared fixtures of the generator tests: real candles and exec of generated sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sixbtc.strategy.contract import StrategySpec

DATA_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
BTC_1H = DATA_DIR / "binance_usdm" / "BTC_1h.parquet"
N_BARS = 5000


@pytest.fixture(scope="session")
def btc_1h() -> dict[str, np.ndarray]:
    """The last ``N_BARS`` real BTC/USDT perpetual 1h candles as OHLCV arrays."""
    if not BTC_1H.exists():
        pytest.skip(f"real market data not found at {BTC_1H}")
    frame = pd.read_parquet(BTC_1H).tail(N_BARS)
    return {k: frame[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close",
                                                             "volume")}


def _load_strategy(code: str, class_name: str) -> tuple[Any, StrategySpec]:
    """Exec generated source in this (test) process; return an instance and its spec."""
    namespace: dict[str, Any] = {}
    exec(compile(code, f"<{class_name}>", "exec"), namespace)  # noqa: S102 - test only
    cls = namespace[class_name]
    declared = {k: getattr(cls, k) for k in ("strategy_type", "direction", "timeframes",
                                              "param_space")}
    return cls(), StrategySpec.from_declared(class_name, declared)


@pytest.fixture(scope="session")
def load_strategy():
    """``load_strategy(code, class_name) -> (instance, StrategySpec)`` (execs the code)."""
    return _load_strategy
