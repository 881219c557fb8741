"""Shared fixtures of the validator tests: a real-candle sample and one sandbox."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox

DATA_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
SAMPLE_BARS = 2000


def _random_walk(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Geometric random walk with consistent OHLC (used when the real data is absent)."""
    rng = np.random.default_rng(seed)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.008, n)))
    open_ = np.concatenate(([30_000.0], close[:-1]))
    wick = np.abs(rng.normal(0, 0.003, (2, n)))
    return {
        "open": open_,
        "high": np.maximum(open_, close) * (1 + wick[0]),
        "low": np.minimum(open_, close) * (1 - wick[1]),
        "close": close,
        "volume": rng.uniform(100, 1000, n),
    }


@pytest.fixture(scope="session")
def sample() -> dict[str, np.ndarray]:
    """Last 2,000 real BTC 1h candles (Binance USD-M), else a synthetic walk."""
    path = DATA_DIR / "binance_usdm" / "BTC_1h.parquet"
    if not path.exists():
        return _random_walk(SAMPLE_BARS)
    import pandas as pd

    frame = pd.read_parquet(path).tail(SAMPLE_BARS)
    return {
        k: frame[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close", "volume")
    }


@pytest.fixture(scope="session")
def sandbox():
    with StrategySandbox(SandboxLimits(wall_s=2.0), keep_spare=True) as sb:
        yield sb
