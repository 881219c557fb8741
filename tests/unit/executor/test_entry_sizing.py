"""The executor's entry sizing: the one sizing rule (``risk.sizing``) with its caps."""

from __future__ import annotations

import pytest

from sixbtc.config.sections import RiskSection
from sixbtc.executor.engine import entry_notional


@pytest.mark.parametrize(
    ("equity", "sl_pct", "expected"),
    [
        (1000.0, 0.02, 500.0),          # 1000 × 0.01 / 0.02
        (1000.0, 0.001, 5000.0),        # 10 000 capped by 5× leverage
        (100_000.0, 0.02, 10_000.0),    # 50 000 capped by max_notional_usd
        (0.0, 0.02, 0.0),
        (-50.0, 0.02, 0.0),
        (1000.0, 0.0, 0.0),
    ],
)
def test_entry_notional_risk_sizing_and_caps(equity: float, sl_pct: float, expected: float) -> None:
    assert entry_notional(equity, sl_pct, RiskSection()) == pytest.approx(expected)


def test_entry_notional_uses_the_configured_caps() -> None:
    risk = RiskSection(risk_per_trade=0.02, max_leverage=2.0, max_notional_usd=700.0)
    assert entry_notional(1000.0, 0.05, risk) == pytest.approx(400.0)
    assert entry_notional(1000.0, 0.01, risk) == pytest.approx(700.0)   # 2000, 2000 → 700
    assert entry_notional(200.0, 0.01, risk) == pytest.approx(400.0)    # 800 → 2× leverage
