"""The static gate: each rule fires on its pattern (with the line) and not on clean code."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from sixbtc.validator import check_ast, check_structure

PRE = "import numpy as np\nimport pandas as pd\nfrom sixbtc.strategy import indicators as ind\n"


def rules(code: str) -> set[str]:
    return {f.rule for f in check_ast(PRE + code)}


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("import os", "ast:forbidden_import"),
        ("import subprocess as sp", "ast:forbidden_import"),
        ("from sixbtc.strategy import sandbox", "ast:forbidden_import"),
        ("from . import x", "ast:forbidden_import"),
        ("import numpy.linalg", "ast:forbidden_import"),
        ("x = ().__class__", "ast:dunder"),
        ("x = __builtins__", "ast:dunder"),
        ("x = __import__('os')", "ast:dunder"),
        ("class A:\n    def __getattr__(self, n):\n        return 1", "ast:dunder"),
        ("x = np._core", "ast:private_attribute"),
        ("f = open", "ast:forbidden_call"),
        ("x = getattr(np, 'roll')", "ast:forbidden_call"),
        ("exec('1')", "ast:forbidden_call"),
        ("g = globals()", "ast:forbidden_call"),
        ("np.mean = len", "ast:module_mutation"),
        ("ind.sma = None", "ast:module_mutation"),
        ("y = ind.shift(x, -1)", "ast:negative_shift"),
        ("y = pd.Series(x).shift(-2)", "ast:negative_shift"),
        ("y = s.shift(periods=-1)", "ast:negative_shift"),
        ("y = np.roll(x, 1)", "ast:roll"),
        ("y = s.rolling(5, center=True).mean()", "ast:centered_window"),
        ("y = np.convolve(x, w, mode='same')", "ast:centered_window"),
        ("y = s.bfill()", "ast:backfill"),
        ("y = s.fillna(method='bfill')", "ast:backfill"),
        ("y = s.interpolate()", "ast:backfill"),
        ("y = x[::-1]", "ast:reverse"),
        ("y = np.flip(x)", "ast:reverse"),
        ("for i in range(9):\n    y = x[i + 1]", "ast:future_index"),
        ("for i in range(9):\n    y = x[1 + i]", "ast:future_index"),
        ("for i in range(9):\n    y = x[i + 1:]", "ast:future_index"),
        ("for i in range(9):\n    y = x[i - 5:i + 3]", "ast:future_index"),
        ("y = [x[j + 2] for j in range(9)]", "ast:future_index"),
        ("y = x > np.mean(x)", "ast:global_statistic"),
        ("y = x > np.percentile(x, 90)", "ast:global_statistic"),
        ("y = x > np.max(x, axis=None)", "ast:global_statistic"),
        ("y = x > x.max()", "ast:global_statistic"),
        ("y = s.quantile(0.9)", "ast:global_statistic"),
        ("y = s.rank(pct=True)", "ast:global_statistic"),
        ("y = s.rolling(5).mean().max()", "ast:global_statistic"),
        ("from numpy import mean\ny = mean(x)", "ast:global_statistic"),
        ("y = np.sort(x)[10]", "ast:global_statistic"),
        ("c = data['close']\ny = sorted(c)", "ast:global_statistic"),
        ("y = s.diff(-1)", "ast:negative_shift"),
        ("y = s.pct_change(periods=-2)", "ast:negative_shift"),
        ("y = np.gradient(x)", "ast:centered_window"),
        ("c = data['close']\ny = c > c[-1]", "ast:last_bar"),
        ("c = np.asarray(data['close'])\ny = c[len(c) - 1]", "ast:last_bar"),
        ("y = pd.Series(x).iloc[-1]", "ast:last_bar"),
        ("y = data['close'][-2]", "ast:last_bar"),
        ("y = s.resample('4h').last()", "ast:resample"),
        ("y = s.groupby(k).transform('max')", "ast:resample"),
        ("y = np.fromfile('/etc/shadow')", "ast:io"),
        ("y = np.load('x.npy', allow_pickle=True)", "ast:io"),
        ("y = pd.read_pickle('x.pkl')", "ast:io"),
        ("s.to_csv('out.csv')", "ast:io"),
        ("y = df.query('a > 1')", "ast:io"),
        ("o = pd.io.common.os", "ast:module_escape"),
        ("m = pd.compat.sys.modules", "ast:module_escape"),
        ("y = '{0.__class__}'.format(x)", "ast:dunder"),
        ("y = '{0[0]}'.format(x)", "ast:dunder"),
    ],
)
def test_rule_fires(code, rule):
    assert rule in rules(code)


@pytest.mark.parametrize(
    "code",
    [
        "y = ind.shift(x, 1)",
        "y = pd.Series(x).shift(3)",
        "y = s.rolling(20).max()",
        "y = s.expanding().mean()",
        "y = s.ewm(span=10).mean()",
        "y = s.rolling(20).quantile(0.9)",
        "y = s.rolling(20).rank()",
        "y = np.max(np.vstack([a, b]), axis=0)",
        "y = np.maximum(a, b)",
        "y = max(3, 4)",
        "for i in range(9):\n    y = x[i - 5:i + 1].mean()",
        "for i in range(9):\n    w = x[i - 5:i + 1]\n    y = w.max() + np.mean(w)",
        "for i in range(9):\n    y = x[i] - x[i - 1]",
        "class Strategy_A_1:\n    def __init__(self):\n        self._cache = 1",
        "y = s.fillna(0.0)",
        "y = s.ffill()",
        "import math\ny = math.log(2.0)",
        "y = s.diff(1)",
        "y = s.pct_change(3)",
        "y = '{:.2f} {}'.format(1.0, 2)",
        "c = data['close']\nfor i in range(9):\n    w = c[i - 5:i + 1]\n    y = w[-1]",
        "y = ind.bbands(x, 20, 2.0)[-1]",
        "c = data['close']\ny = c[-1:]",
        "y = np.sort(np.vstack([a, b]), axis=0)",
        "y = sorted([3, 1, 2])",
    ],
)
def test_clean_patterns_do_not_fire(code):
    assert check_ast(PRE + code) == []


# Issue 8: bypasses of the file-I/O ban and their siblings. The gate allow-lists module
# names; a module object may not be used as a value.
@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("from pandas import read_csv", "ast:io"),
        ("load = np.load", "ast:io"),
        ("f = lambda p, r=np.fromfile: r(p)", "ast:io"),
        ("m = np.lib.format.open_memmap('x.npy', mode='w+')", "ast:io"),
        ("from numpy import save", "ast:io"),
        ("from numpy import load as fetch", "ast:io"),
        ("def f(p, r=pd.read_pickle):\n    return r(p)", "ast:io"),
        ("y = np.genfromtxt('/etc/passwd')", "ast:io"),
        ("y = np.frombuffer(b'1234')", "ast:io"),
        ("src = np.DataSource()", "ast:io"),
        ("w = pd.Series(x).to_csv", "ast:io"),
        ("data['close'].tofile('x.bin')", "ast:io"),
        ("d = {'f': np.loadtxt}", "ast:io"),
        ("x = np", "ast:module_object"),
        ("y = f(pd)", "ast:module_object"),
        ("def g():\n    return np", "ast:module_object"),
        ("class A:\n    def __init__(self):\n        self.m = pd", "ast:module_object"),
        ("mods = [np, pd]", "ast:module_object"),
        ("from numpy import lib", "ast:module_attribute"),
        ("fmt = np.lib.format", "ast:module_attribute"),
        ("y = np.lib.stride_tricks.as_strided(x, (10,), (8,))", "ast:module_attribute"),
        ("np.seterr(all='ignore')", "ast:module_attribute"),
        ("pd.set_option('display.width', 10)", "ast:module_attribute"),
        ("w = pd.options.display.width", "ast:module_attribute"),
        ("g = np.random.default_rng(1)", "ast:module_attribute"),
        ("t = ind.talib.SMA(x, 3)", "ast:module_attribute"),
        ("z = ind.np.load('x.npy')", "ast:io"),
        ("from math import *", "ast:forbidden_import"),
        ("ind.sma.memo = x", "ast:module_mutation"),
        ("np.typecodes['memo'] = x", "ast:module_attribute"),
        ("c = np.ctypeslib", "ast:module_escape"),
        ("r = pd.io.parquet.read_parquet", "ast:module_escape"),
    ],
)
def test_allow_list_closes_io_and_module_escapes(code, rule):
    assert rule in rules(code)


@pytest.mark.parametrize(
    "code",
    [
        "y = np.lib.stride_tricks.sliding_window_view(x, 5)",
        "y = np.linalg.norm(x)",
        "from numpy import mean\ny = mean(a, axis=0)",
        "from sixbtc.strategy.indicators import sma\ny = sma(x, 3)",
        "import sixbtc.strategy.indicators as ind2\ny = ind2.ema(x, 3)",
        "y = np.maximum.accumulate(x)",
        "ok = isinstance(x, np.ndarray) and x.dtype == np.float64",
        "import math\ny = math.log(2.0) + math.pi",
        "y = pd.Series(x).rolling(5).mean().to_numpy()",
        "f = np.nan_to_num\ny = f(x)",
        "y = np.where(np.isnan(x), 0.0, x)",
    ],
)
def test_allowed_names_pass(code):
    assert check_ast(PRE + code) == []


def test_every_generated_strategy_passes_the_gate():
    from sixbtc.generator.factory import generate

    codes = [c.code for seed in (1, 7, 42, 2024) for c in generate(80, np.random.default_rng(seed)).candidates]
    assert len(codes) >= 300
    failing = {code: check_ast(code) for code in codes if check_ast(code)}
    assert not failing, next(iter(failing.values()))


def test_indicator_allow_list_matches_the_indicator_library():
    from sixbtc.strategy import indicators
    from sixbtc.validator.ast_names import INDICATOR_NAMES

    assert set(indicators.__all__) == INDICATOR_NAMES


def test_findings_carry_line_numbers_and_are_sorted():
    found = check_ast(PRE + "a = 1\nimport os\nb = np.roll(a, 1)\n")
    assert [(f.line, f.rule) for f in found] == [(5, "ast:forbidden_import"), (6, "ast:roll")]
    assert all(f.detail for f in found)


def test_syntax_error_is_a_single_syntax_finding():
    found = check_ast("def f(:\n")
    assert len(found) == 1 and found[0].rule == "syntax" and found[0].line == 1


def test_structure_needs_one_class_with_signals_and_the_four_attributes():
    ok = (
        "class Strategy_MOM_1:\n    strategy_type = 'MOM'\n    direction = 'long'\n"
        "    timeframes = ('1h',)\n    param_space = {}\n    def signals(self, data, params):\n"
        "        return None\n"
    )
    assert check_structure(ast.parse(ok)) == []
    missing = check_structure(ast.parse(ok.replace("    direction = 'long'\n", "")))
    assert [f.detail for f in missing] == ["Strategy_MOM_1 does not declare direction"]
    no_signals = check_structure(ast.parse(ok.replace("def signals", "def other")))
    assert any("no signals method" in f.detail for f in no_signals)
    assert check_structure(ast.parse("x = 1"))[0].rule == "syntax:structure"
    assert check_structure(ast.parse(ok + ok.replace("_1:", "_2:")))[0].detail.endswith("found 2")


DISPATCH = """
import numpy as np
import pandas as pd

class Strategy_MOM_0d15a7c4:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    param_space = {{"sl_pct": [0.01], "tp_pct": [0.02]}}

    def signals(self, data, params):
        s = pd.Series(data["close"])
        {line}
        return data["close"] > 0, data["close"] < 0
"""


@pytest.mark.parametrize("line,rule", [
    ("s.agg('to_' + 'pickle', 'memo.pkl')", "ast:dynamic_dispatch"),  # a getattr in disguise
    ("s.transform(f'to_{params}')", "ast:dynamic_dispatch"),
    ("s.aggregate(str('to_csv'), 'x.csv')", "ast:dynamic_dispatch"),
    ("s.agg('to_pickle', 'memo.pkl')", "ast:io"),
    ("s.apply('_mgr')", "ast:io"),
    ("x = s.rolling(5).apply(lambda w: w[-1], raw=True)", None),
    ("x = s.agg('cumsum')", None),
    ("x = s.apply(np.sign)", None),
    ("x = s.apply(np.vectorize(abs))", None),
])
def test_pandas_string_dispatch_is_refused_unless_a_literal_safe_name(line, rule):
    """Before: pandas' ``agg``/``apply``/``transform`` with a string called any method of the
    value (``to_pickle``, ``to_csv``: file writes) and passed the gate."""
    rules = {f.rule for f in check_ast(DISPATCH.format(line=line))}
    assert (rule in rules) if rule else not rules & {"ast:io", "ast:dynamic_dispatch"}, rules
