"""Shared fixtures of the generator tests: real candles and exec of generated sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sixbtc.strategy.contract import StrategySpec
from sixbtc.strategy.input_loader import load_market
from sixbtc.strategy.inputs import build_data

DATA_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
BTC_1H = DATA_DIR / "binance_usdm" / "BTC_1h.parquet"
N_BARS = 5000


class _Files:
    """Read-only candles and funding of the shared data."""

    def read_candles(self, symbol, timeframe, start=None, end=None) -> pd.DataFrame:
        df = pd.read_parquet(DATA_DIR / "binance_usdm" / f"{symbol}_{timeframe}.parquet")
        return df[(df["timestamp"] >= start) & (df["timestamp"] < end)].reset_index(drop=True)

    def read_funding(self, symbol, start=None, end=None) -> pd.DataFrame:
        df = pd.read_parquet(DATA_DIR / "binance_usdm" / f"{symbol}_funding.parquet")
        return df[(df["timestamp"] >= start) & (df["timestamp"] < end)].reset_index(drop=True)


#: Every extra input a generated strategy may declare.
ALL_INPUTS = ("open_time", "funding", "btc", "htf:4h", "htf:1d")


@pytest.fixture(scope="session")
def btc_1h() -> dict[str, np.ndarray]:
    """The last ``N_BARS`` real BTC/USDT perpetual 1h candles as OHLCV arrays, plus every
    extra input (:data:`ALL_INPUTS`) from the real funding and candles."""
    if not BTC_1H.exists():
        pytest.skip(f"real market data not found at {BTC_1H}")
    frame = pd.read_parquet(BTC_1H).tail(N_BARS).reset_index(drop=True)
    start, end = frame["timestamp"].iloc[0], frame["timestamp"].iloc[-1] + pd.Timedelta(hours=1)
    return build_data(load_market(_Files(), "BTC", "1h", start, end, ALL_INPUTS, frame=frame), ALL_INPUTS)


def _load_strategy(code: str, class_name: str) -> tuple[Any, StrategySpec]:
    """Exec generated source in this (test) process; return an instance and its spec."""
    namespace: dict[str, Any] = {}
    exec(compile(code, f"<{class_name}>", "exec"), namespace)  # noqa: S102 - test only
    cls = namespace[class_name]
    declared = {k: getattr(cls, k, None) for k in ("strategy_type", "direction", "timeframes",
                                                    "param_space", "inputs")}
    return cls(), StrategySpec.from_declared(class_name, declared)


@pytest.fixture(scope="session")
def load_strategy():
    """``load_strategy(code, class_name) -> (instance, StrategySpec)`` (execs the code)."""
    return _load_strategy
