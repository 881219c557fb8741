"""Shared fixtures of the validator tests: a real-candle sample and one sandbox."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox
from sixbtc.validator.sample import synthetic_sample

DATA_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
SAMPLE_BARS = 2000


@pytest.fixture(scope="session")
def sample() -> dict[str, np.ndarray]:
    """Last 2,000 real BTC 1h candles (Binance USD-M), else a synthetic walk."""
    path = DATA_DIR / "binance_usdm" / "BTC_1h.parquet"
    if not path.exists():
        return synthetic_sample(SAMPLE_BARS)
    import pandas as pd

    frame = pd.read_parquet(path).tail(SAMPLE_BARS)
    return {
        k: frame[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close", "volume")
    }


@pytest.fixture(scope="session")
def sandbox():
    with StrategySandbox(SandboxLimits(wall_s=2.0), keep_spare=True) as sb:
        yield sb
