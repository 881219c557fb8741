"""The validator pipeline on a corpus of clean and biased/unsafe strategy sources."""

from __future__ import annotations

import time

import pytest

from sixbtc.validator import validate

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


CLEAN = {
    "sma_cross": src(
        """
        fast = ind.sma(close, params["fast"])
        slow = ind.sma(close, params["slow"])
        return ind.cross_above(fast, slow), ind.cross_below(fast, slow)""",
        space='"fast": [5, 10], "slow": [30, 50]',
    ),
    "rsi_reversion": src(
        """
        rsi = ind.rsi(close, params["n"])
        return ind.cross_above(rsi, 30.0 + 0 * rsi), ind.cross_above(rsi, 70.0 + 0 * rsi)""",
        space='"n": [7, 14]',
        stype="REV",
    ),
    "bollinger_breakout": src(
        """
        upper, middle, lower = ind.bbands(close, params["n"], 2.0)
        return ind.cross_above(close, upper), ind.cross_below(close, middle)""",
        stype="BRK",
    ),
    "macd_trend": src(
        """
        macd, signal, hist = ind.macd(close, 12, 26, params["n"])
        return ind.cross_above(macd, signal), ind.cross_below(macd, signal)""",
        space='"n": [5, 9]',
        stype="TRN",
    ),
    "donchian_short": src(
        """
        floor = ind.shift(ind.lowest(low, params["n"]), 1)
        ceiling = ind.shift(ind.highest(high, params["n"]), 1)
        entries = np.nan_to_num(close - floor, nan=1.0) < 0
        exits = np.nan_to_num(close - ceiling, nan=-1.0) > 0
        return entries, exits""",
        stype="BRK",
        direction="short",
    ),
    "atr_expansion": src(
        """
        tr = ind.true_range(high, low, close)
        atr = ind.atr(high, low, close, params["n"])
        big = np.nan_to_num(tr - 1.5 * atr, nan=-1.0) > 0
        up = close > data["open"]
        return big & up, ind.cross_below(close, ind.ema(close, params["n"]))""",
        stype="VOL",
    ),
    "pandas_zscore": src(
        """
        s = pd.Series(close)
        mean = s.rolling(params["n"]).mean()
        std = s.rolling(params["n"]).std()
        z = ((s - mean) / std).to_numpy()
        entries = np.nan_to_num(z, nan=0.0) < -1.5
        exits = np.nan_to_num(z, nan=0.0) > 0.0
        return entries, exits""",
        stype="REV",
    ),
    "loop_momentum": src("""
        n = params["n"]
        entries = np.zeros(len(close), dtype=bool)
        exits = np.zeros(len(close), dtype=bool)
        for i in range(n, len(close)):
            change = math.log(close[i] / close[i - n])
            window = close[i - n:i + 1]
            entries[i] = change > 0.02 and close[i] >= window.max()
            exits[i] = change < -0.01
        return entries, exits"""),
    "stoch_adx": src(
        """
        k, d = ind.stoch(high, low, close, params["n"], 3)
        adx = ind.adx(high, low, close, 14)
        trending = np.nan_to_num(adx, nan=0.0) > 20
        return ind.cross_above(k, d) & trending, ind.cross_below(k, d)""",
        stype="TRN",
    ),
    "roc_expanding": src("""
        roc = ind.roc(close, params["n"])
        base = pd.Series(roc).expanding(min_periods=50).std().to_numpy()
        z = ind.zscore(close, params["n"])
        entries = np.nan_to_num(roc - base, nan=-1.0) > 0
        return entries, np.nan_to_num(z, nan=0.0) < -1.0"""),
}

# name -> (source, phase, reason)
BIASED = {
    "negative_shift": (
        src("""
        future = ind.shift(close, -1)
        return np.nan_to_num(future - close) > 0, np.nan_to_num(future - close) < 0"""),
        "ast",
        "ast:negative_shift",
    ),
    "pandas_shift_keyword": (
        src("""
        s = pd.Series(close)
        ahead = s.shift(periods=-3).to_numpy()
        return ahead > close, ahead < close"""),
        "ast",
        "ast:negative_shift",
    ),
    "centered_rolling": (
        src("""
        smooth = pd.Series(close).rolling(params["n"], center=True).mean().to_numpy()
        return ind.cross_above(close, smooth), ind.cross_below(close, smooth)"""),
        "ast",
        "ast:centered_window",
    ),
    "global_mean": (
        src("""
        level = np.mean(close)
        return ind.cross_above(close, 0 * close + level), ind.cross_below(close, 0 * close + level)"""),
        "ast",
        "ast:global_statistic",
    ),
    "global_quantile_method": (
        src("""
        top = pd.Series(high).quantile(0.9)
        return close > top, close < top"""),
        "ast",
        "ast:global_statistic",
    ),
    "np_roll": (
        src("""
        nxt = np.roll(close, -1)
        return nxt > close, nxt < close"""),
        "ast",
        "ast:roll",
    ),
    "future_indexing": (
        src("""
        entries = np.zeros(len(close), dtype=bool)
        for i in range(len(close) - 2):
            entries[i] = close[i + 2] > close[i]
        return entries, ~entries"""),
        "ast",
        "ast:future_index",
    ),
    "bfill": (
        src("""
        s = pd.Series(ind.sma(close, params["n"])).bfill().to_numpy()
        return close > s, close < s"""),
        "ast",
        "ast:backfill",
    ),
    "import_os": (
        src(
            """
        return close > 0, close < 0""",
            imports=IMPORTS + "import os\n",
        ),
        "ast",
        "ast:forbidden_import",
    ),
    "open_file": (
        src("""
        secret = open("/etc/passwd").read()
        return close > len(secret), close < 0"""),
        "ast",
        "ast:forbidden_call",
    ),
    "class_traversal": (
        src("""
        classes = ().__class__.__bases__[0].__subclasses__()
        return close > len(classes), close < 0"""),
        "ast",
        "ast:dunder",
    ),
    "eval": (
        src("""
        return eval("close > 0"), close < 0"""),
        "ast",
        "ast:forbidden_call",
    ),
    # Disguises the AST gate cannot see: caught by the empirical tests.
    "future_by_slicing": (
        src(
            """
        lag = params["lag"]
        ahead = np.append(close[lag:], np.full(lag, np.nan))
        up = np.nan_to_num(ahead - close, nan=0.0) > 0
        return up, ~up""",
            space='"lag": [1, 2]',
        ),
        "lookahead",
        "lookahead:truncation",
    ),
    "median_by_sorting": (
        src("""
        level = sorted(close)[len(close) // 2]
        return ind.cross_above(close, 0 * close + level), ind.cross_below(close, 0 * close + level)"""),
        "lookahead",
        "lookahead:truncation",
    ),
    "state_smuggling": (
        src(
            """
        if not MEMORY or len(MEMORY[0]) < len(close):
            MEMORY[:] = [close]
        known = MEMORY[0]
        nxt = np.append(known[1:], known[-1])[: len(close)]
        return nxt > close * 1.002, nxt < close * 0.998""",
            extra="MEMORY = []\n",
        ),
        "lookahead",
        "lookahead:truncation",
    ),
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


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_clean_strategies_pass(name, sandbox, sample):
    report = validate(CLEAN[name], sandbox, sample)
    assert report.passed, f"{name}: {report.phase} {report.reason} {report.detail}"
    assert report.phase == "passed" and report.reason is None and report.findings == ()
    assert report.spec is not None and report.spec.class_name.startswith("Strategy_")


@pytest.mark.parametrize("name", sorted(BIASED))
def test_biased_or_unsafe_strategies_are_rejected_in_the_right_phase(name, sandbox, sample):
    code, phase, reason = BIASED[name]
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
        assert validate(CLEAN["sma_cross"], sandbox, sample).passed


def test_lookahead_report_names_the_first_differing_bar(sandbox, sample):
    report = validate(BIASED["future_by_slicing"][0], sandbox, sample)
    assert "signals differ at bar" in report.detail and "cut at" in report.detail
    bar = int(report.detail.split("bar ")[1].split()[0])
    cut = int(report.detail.split("cut at ")[1].split()[0])
    assert 0 <= bar < cut <= len(sample["close"])


def test_bad_arguments_raise_value_error(sandbox, sample):
    with pytest.raises(ValueError, match="code must be a str"):
        validate(b"class Strategy_X: pass", sandbox, sample)
    with pytest.raises(ValueError, match="cut_points"):
        validate(CLEAN["sma_cross"], sandbox, sample, cut_points=0)
    with pytest.raises(ValueError, match="max_param_sets"):
        validate(CLEAN["sma_cross"], sandbox, sample, max_param_sets=0)
    with pytest.raises(ValueError, match="bars"):
        validate(CLEAN["sma_cross"], sandbox, {k: v[:50] for k, v in sample.items()})
    with pytest.raises(ValueError, match="OHLCV"):
        validate(CLEAN["sma_cross"], sandbox, {"close": sample["close"]})


def test_min_signals_threshold_is_applied(sandbox, sample):
    report = validate(CLEAN["sma_cross"], sandbox, sample, min_signals=10_000)
    assert (report.phase, report.reason) == ("execution", "execution:too_few_signals")
    assert report.spec is not None
