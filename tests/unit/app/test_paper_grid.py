"""A GRD strategy that reached the paper executor anyway (the rotator never promotes one) fails
as a strategy fault with a clear message instead of trading float levels as signals."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.app.paper import SandboxSignals
from sixbtc.domain.strategy import StrategyRecord, StrategySource, StrategyStatus, StrategyType
from sixbtc.generator.factory import generate
from sixbtc.strategy.sandbox import SandboxLimits


class _Container:
    def sandbox_limits(self) -> SandboxLimits:
        return SandboxLimits(wall_s=5.0)


def test_a_grid_strategy_is_refused_by_the_paper_signal_engine() -> None:
    cand = generate(1, np.random.default_rng(2), sources=("grid",)).candidates[0]
    rec = StrategyRecord(id=1, name=cand.name, type=StrategyType.GRD, source=StrategySource.GRID,
                         status=StrategyStatus.LIVE, code=cand.code, code_hash=cand.code_hash)
    rng = np.random.default_rng(0)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 400)))
    data = {"open": close, "high": close * 1.01, "low": close * 0.99, "close": close, "volume": np.ones(400)}
    params = {k: v[0] for k, v in cand.genome["grid"].items()}
    engine = SandboxSignals(_Container(), [rec])
    try:
        with pytest.raises(ValueError, match="GRD strategies are not supported by the executor yet"):
            engine.last_signal(1, data, params)
    finally:
        engine.close()
