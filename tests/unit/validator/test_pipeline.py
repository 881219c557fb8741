"""The validator pipeline: phase order, execution/syntax rejections, report and arguments.

The look-ahead/warm-up corpus is in ``test_corpus.py``, the hostile one in
``test_hostile.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sixbtc.validator import validate
from sixbtc.validator.sample import NamedSample

IMPORTS = "import math\nimport numpy as np\nimport pandas as pd\nfrom sixbtc.strategy import indicators as ind\n"


def src(
    body: str,
    space: str = '"n": [10, 20]',
    stype: str = "MOM",
    direction: str = "long",
    imports: str = IMPORTS,
    extra: str = "",
) -> str:
    """Render a strategy module around the body of ``signals`` (8-space indented)."""
    return f'''{imports}
{extra}
class Strategy_{stype}_0badc0de:
    strategy_type = "{stype}"
    direction = "{direction}"
    timeframes = ("1h", "4h")
    param_space = {{{space}, "sl_pct": [0.01, 0.02], "tp_pct": [0.03]}}

    def signals(self, data, params):
        close = data["close"]
        high = data["high"]
        low = data["low"]
{body}
'''


SMA_CROSS = (Path(__file__).resolve().parent / "corpus" / "clean" / "sma_cross.py").read_text()

# name -> (source, phase, reason)
REJECTED = {
    # Execution phase.
    "infinite_loop": (
        src("""
        while True:
            pass"""),
        "execution",
        "sandbox:timeout",
    ),
    "memory_bomb": (
        src("""
        blob = np.ones((200_000, 200_000))
        return close > blob[0, 0], close < 0"""),
        "execution",
        "sandbox:memory",
    ),
    "missing_stop": (
        src("""
        return close > 0, close < 0""").replace('"sl_pct": [0.01, 0.02], ', ""),
        "execution",
        "contract:invalid_spec",
    ),
    "float_output": (
        src("""
        return close * 1.0, close * 0.0"""),
        "execution",
        "execution:bad_output",
    ),
    "raises": (
        src("""
        return params["missing"], close"""),
        "execution",
        "execution:error",
    ),
    "never_enters": (
        src("""
        return close < 0, close > 0"""),
        "execution",
        "execution:too_few_signals",
    ),
    # Syntax phase.
    "syntax_error": (src("        return (close > 0"), "syntax", "syntax"),
    "two_classes": (
        src("        return close > 0, close < 0", extra="class Strategy_X_1:\n    pass\n"),
        "syntax",
        "syntax:structure",
    ),
    "no_param_space": (
        src("        return close > 0, close < 0").replace("    param_space =", "    params ="),
        "syntax",
        "syntax:structure",
    ),
}


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_broken_strategies_are_rejected_in_the_right_phase(name, sandbox, sample):
    code, phase, reason = REJECTED[name]
    t0 = time.monotonic()
    report = validate(code, sandbox, sample)
    assert not report.passed
    assert (report.phase, report.reason) == (phase, reason), report.detail
    assert report.detail
    if phase == "ast":
        assert any(f.rule == reason and f.line > 0 for f in report.findings)
    if reason == "sandbox:timeout":
        assert time.monotonic() - t0 < sandbox.limits.wall_s + 3.0
    if phase in ("execution", "lookahead"):  # the sandbox keeps working after a rejection
        assert validate(SMA_CROSS, sandbox, {k: v[-600:] for k, v in sample.items()}).passed


def test_passed_report_carries_spec_and_warmup(sandbox, sample):
    report = validate(SMA_CROSS, sandbox, sample)
    assert report.passed and report.spec is not None
    assert report.spec.class_name.startswith("Strategy_")
    # SMA(50) cross: needs about 50 bars, far less than the whole sample
    assert 40 <= report.warmup_bars <= 60 and report.detail == f"warmup_bars={report.warmup_bars}"


def test_warmup_above_the_configured_one_is_rejected(sandbox, sample):
    report = validate(SMA_CROSS, sandbox, sample, allowed_warmup=20)
    assert (report.phase, report.reason) == ("lookahead", "warmup:exceeds_config")
    assert report.warmup_bars > 20 and "allows 20" in report.detail
    assert validate(SMA_CROSS, sandbox, sample, allowed_warmup=report.warmup_bars).passed


def test_bad_arguments_raise_value_error(sandbox, sample):
    with pytest.raises(ValueError, match="code must be a str"):
        validate(b"class Strategy_X: pass", sandbox, sample)
    with pytest.raises(ValueError, match="cut_points"):
        validate(SMA_CROSS, sandbox, sample, cut_points=0)
    with pytest.raises(ValueError, match="max_param_sets"):
        validate(SMA_CROSS, sandbox, sample, max_param_sets=0)
    with pytest.raises(ValueError, match="bars"):
        validate(SMA_CROSS, sandbox, {k: v[:50] for k, v in sample.items()})
    with pytest.raises(ValueError, match="allowed_warmup"):
        validate(SMA_CROSS, sandbox, sample, allowed_warmup=-1)
    with pytest.raises(ValueError, match="max_warmup"):
        validate(SMA_CROSS, sandbox, sample, max_warmup=0)
    with pytest.raises(ValueError, match="OHLCV"):
        validate(SMA_CROSS, sandbox, {"close": sample["close"]})


def test_min_signals_threshold_is_applied(sandbox, sample):
    report = validate(SMA_CROSS, sandbox, sample, min_signals=10_000)
    assert (report.phase, report.reason) == ("execution", "execution:too_few_signals")
    assert report.spec is not None


CHEAP_PEEK = (Path(__file__).resolve().parent / "corpus" / "biased" / "price_below_1000.py").read_text()


def test_extra_samples_default_to_the_synthetic_ones(sandbox, sample):
    # a next-bar peek that switches on below a price of 1,000: honest on BTC, caught on a synthetic extra
    assert validate(CHEAP_PEEK, sandbox, sample, extra_samples=()).passed
    report = validate(CHEAP_PEEK, sandbox, sample)
    assert (report.phase, report.reason) == ("lookahead", "lookahead:truncation")
    assert report.sample == "synthetic micro-price (3000 bars)"
    assert report.detail.endswith("on sample synthetic micro-price (3000 bars)")
    assert report.warmup_bars is not None  # measured on the primary sample before the extras ran


def test_extra_sample_arguments_are_checked(sandbox, sample):
    with pytest.raises(ValueError, match="extra_samples must hold NamedSample"):
        validate(SMA_CROSS, sandbox, sample, extra_samples=[sample])
    short = NamedSample("tiny", {k: v[:50] for k, v in sample.items()})
    with pytest.raises(ValueError, match="extra sample 'tiny': sample needs >= 100 bars"):
        validate(SMA_CROSS, sandbox, sample, extra_samples=[short])
    with pytest.raises(ValueError, match="extra_cut_points"):
        validate(SMA_CROSS, sandbox, sample, extra_cut_points=0)
