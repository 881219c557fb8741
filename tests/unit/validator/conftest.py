"""Shared fixtures of the validator tests: a real-candle sample, the extra samples and one
sandbox."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox
from sixbtc.validator.sample import NamedSample, synthetic_sample
from sixbtc.validator.samples import extra_samples

DATA_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
SAMPLE_BARS = 2000
#: The default 15m backtest span (250 warm-up + 180 days x 96 bars): the factory's long extra.
LONG_BARS = 17_530


class ParquetDir:
    """Read-only CandleReader over ``{SYMBOL}_{TF}.parquet`` files (the shared data layout)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def symbols(self, timeframe: str) -> list[str]:
        return sorted(p.name[: -len(f"_{timeframe}.parquet")] for p in self.root.glob(f"*_{timeframe}.parquet"))

    def read_candles(self, symbol, timeframe, start=None, end=None) -> pd.DataFrame:
        df = pd.read_parquet(self.root / f"{symbol}_{timeframe}.parquet")
        return df[df["timestamp"] < end] if end is not None else df


def real_data() -> bool:
    """True when the shared real data is present."""
    return (DATA_DIR / "binance_usdm" / "BTC_1h.parquet").exists()


@pytest.fixture(scope="session")
def has_real_data() -> bool:
    return real_data()


@pytest.fixture(scope="session")
def sample() -> dict[str, np.ndarray]:
    """Last 2,000 real BTC 1h candles (Binance USD-M), else a synthetic walk."""
    path = DATA_DIR / "binance_usdm" / "BTC_1h.parquet"
    if not path.exists():
        return synthetic_sample(SAMPLE_BARS)
    frame = pd.read_parquet(path).tail(SAMPLE_BARS)
    return {
        k: frame[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close", "volume")
    }


@pytest.fixture(scope="session")
def extras() -> list[NamedSample]:
    """The factory's extra samples: real ones from the shared data (when present), then the
    synthetic ones."""
    reader = ParquetDir(DATA_DIR / "binance_usdm") if real_data() else None
    return extra_samples(reader, end=None, long_timeframe="15m", long_bars=LONG_BARS)


@pytest.fixture(scope="session")
def sandbox():
    with StrategySandbox(SandboxLimits(wall_s=2.0), keep_spare=True) as sb:
        yield sb
