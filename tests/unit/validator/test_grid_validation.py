"""Grid strategies (GRD) in the sandbox and the validator: the float ``center``/``step`` output
crosses the wire, generated grid strategies pass every phase (truncation, shuffle, warm-up,
extra samples), and a grid that peeks at the next bar is caught."""

from __future__ import annotations

import numpy as np
import pytest

from sixbtc.core.errors import StrategyRejected
from sixbtc.generator.factory import generate
from sixbtc.validator import validate

GRID_SRC = '''import numpy as np
from sixbtc.strategy import indicators as ind


class Strategy_GRD_0badc0de:
    strategy_type = "GRD"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"n": [20, 50], "k": [1.0], "levels": [3], "sl_pct": [0.03]}

    def signals(self, data, params):
        close = data["close"]
        center = ind.sma(close, params["n"])
        step = params["k"] * ind.sma(ind.true_range(data["high"], data["low"], close), 14)
{tail}
'''
HONEST = '        return {"center": center, "step": step}'
PEEK = '''        ahead = np.concatenate((close[1:], close[:1]))
        return {"center": center, "step": step + 0.0 * ahead + 0.001 * (ahead - close)}'''


def test_sandbox_returns_float_grids_for_a_grd_strategy(sandbox, sample):
    spec = sandbox.load(GRID_SRC.replace("{tail}", HONEST))
    assert spec.is_grid and spec.param_space["levels"] == [3]
    center, step = sandbox.signals(sample, spec.grid())
    assert center.dtype == np.float64 and center.shape == (2, len(sample["close"]))
    assert np.isnan(center[0, :19]).all() and np.isfinite(center[0, 19:]).all()
    np.testing.assert_allclose(center[1, -1], sample["close"][-50:].mean(), rtol=1e-12)
    assert (step[:, 20:] > 0).all()


@pytest.mark.parametrize(("tail", "reason"), [
    ('        return center, step', "execution:bad_output"),
    ('        return {"center": center}', "execution:bad_output"),
    ('        return {"center": center > 0, "step": step}', "execution:bad_output"),
    ('        return {"center": center, "step": step * np.inf}', "execution:bad_output"),
])
def test_bad_grid_outputs_are_rejected(sandbox, sample, tail, reason):
    sandbox.load(GRID_SRC.replace("{tail}", tail))
    with pytest.raises(StrategyRejected) as err:
        sandbox.signals(sample, [{"n": 20, "k": 1.0, "levels": 3, "sl_pct": 0.03}])
    assert err.value.reason == reason


def test_a_grd_strategy_must_declare_levels_and_no_tp(sandbox):
    with pytest.raises(StrategyRejected, match="levels"):
        sandbox.load(GRID_SRC.replace("{tail}", HONEST).replace('"levels": [3], ', ""))
    with pytest.raises(StrategyRejected, match="tp_pct"):
        sandbox.load(GRID_SRC.replace("{tail}", HONEST).replace('"sl_pct": [0.03]', '"sl_pct": [0.03], "tp_pct": [0.1]'))


def test_honest_grid_passes_and_a_peeking_grid_is_caught(sandbox, sample):
    ok = validate(GRID_SRC.replace("{tail}", HONEST), sandbox, sample, allowed_warmup=250)
    assert ok.passed, (ok.reason, ok.detail)
    assert ok.warmup_bars == 49  # SMA(50): exactly its window (finite memory), within tolerance
    bad = validate(GRID_SRC.replace("{tail}", PEEK), sandbox, sample, allowed_warmup=250)
    assert not bad.passed and bad.reason in ("lookahead:truncation", "lookahead:shuffle"), (bad.reason, bad.detail)


def test_generated_grid_strategies_validate(sandbox, sample):
    codes = [c.code for c in generate(4, np.random.default_rng(9), sources=("grid",)).candidates]
    recent = {k: v[-1500:] for k, v in sample.items()}
    reports = [validate(code, sandbox, recent, allowed_warmup=250) for code in codes]
    assert all(r.passed for r in reports), [(r.reason, r.detail) for r in reports]
