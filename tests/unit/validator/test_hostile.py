"""Hostile strategy code through the whole validator: rejected (or contained), and the same
sandbox validates a clean strategy right afterwards.

Containment when the AST gate is bypassed (the process is the boundary) is tested on the
sandbox directly in ``tests/unit/strategy/test_sandbox_hostile.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sixbtc.validator import validate

CLEAN = (Path(__file__).resolve().parent / "corpus" / "clean" / "sma_cross.py").read_text()
HEAD = """import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind
{imports}

class Strategy_MOM_0badf00d:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    param_space = {{"n": [10, 20], "sl_pct": [0.02], "tp_pct": [0.04]}}
{extra}
    def signals(self, data, params):
        close = data["close"]
        sma = ind.sma(close, params["n"])
"""
TAIL = "        return ind.cross_above(close, sma), ind.cross_below(close, sma)\n"


def hostile(body: str, imports: str = "", extra: str = "", tail: str = TAIL) -> str:
    return HEAD.format(imports=imports, extra=extra) + body + tail


# name -> (source, phase, reason); reason None = contained: the strategy passes unharmed.
HOSTILE = {
    "import_os": (hostile("", imports="import os"), "ast", "ast:forbidden_import"),
    "import_sys": (hostile("", imports="import sys"), "ast", "ast:forbidden_import"),
    "import_subprocess": (
        hostile("        import subprocess\n        subprocess.run(['id'])\n"),
        "ast",
        "ast:forbidden_import",
    ),
    "import_socket": (
        hostile("", imports="from socket import socket"),
        "ast",
        "ast:forbidden_import",
    ),
    "import_ctypes": (hostile("", imports="import ctypes as c"), "ast", "ast:forbidden_import"),
    "importlib": (hostile("", imports="import importlib"), "ast", "ast:forbidden_import"),
    "open": (hostile("        text = open('/etc/hostname').read()\n"), "ast", "ast:forbidden_call"),
    "eval": (hostile("        sma = eval('close * 1')\n"), "ast", "ast:forbidden_call"),
    "exec": (hostile("        exec('x = 1')\n"), "ast", "ast:forbidden_call"),
    "compile": (hostile("        c = compile('1', 's', 'eval')\n"), "ast", "ast:forbidden_call"),
    "dunder_import": (hostile("        o = __import__('os')\n"), "ast", "ast:dunder"),
    "dunder_traversal": (
        hostile("        subs = ().__class__.__base__.__subclasses__()\n"),
        "ast",
        "ast:dunder",
    ),
    "format_traversal": (
        hostile("        leak = '{0.__class__.__mro__}'.format(close)\n"),
        "ast",
        "ast:dunder",
    ),
    "format_item_traversal": (
        hostile("        leak = '{0[0]}{1.real}'.format(close, 1)\n"),
        "ast",
        "ast:dunder",
    ),
    "getattr_trick": (
        hostile("        system = getattr(np, 'o' + 's').system\n"),
        "ast",
        "ast:forbidden_call",
    ),
    "vars_trick": (hostile("        g = vars(np)['os']\n"), "ast", "ast:forbidden_call"),
    "module_path_to_os": (
        hostile("        env = pd.io.common.os.environ\n"),
        "ast",
        "ast:module_escape",
    ),
    "fork_bomb": (
        hostile("        while True:\n            pd.io.common.os.fork()\n"),
        "ast",
        "ast:module_escape",
    ),
    "compat_sys": (hostile("        mods = pd.compat.sys.modules\n"), "ast", "ast:module_escape"),
    "secret_file": (
        hostile("        secret = np.fromfile('/root/.secret', dtype=np.uint8)\n"),
        "ast",
        "ast:io",
    ),
    "pandas_read": (hostile("        df = pd.read_csv('/etc/passwd')\n"), "ast", "ast:io"),
    "pandas_eval": (
        hostile("        df = pd.DataFrame({'c': close}).eval('c * 2')\n"),
        "ast",
        "ast:io",
    ),
    "del_time_bomb": (
        hostile("", extra="\n    def __del__(self):\n        while True:\n            pass\n"),
        "ast",
        "ast:dunder",
    ),
    "private_attribute": (hostile("        lib = np._core\n"), "ast", "ast:private_attribute"),
    "infinite_loop": (
        hostile("        while True:\n            pass\n"),
        "execution",
        "sandbox:timeout",
    ),
    "memory_bomb": (
        hostile("        blob = 'x' * 2**31  # 2 GiB > memory_mb\n"),
        "execution",
        "sandbox:memory",
    ),
    "huge_return_array": (
        hostile("", tail="        return np.ones(10**8, dtype=bool), np.ones(10**8, dtype=bool)\n"),
        "execution",
        "execution:bad_output",
    ),
    "recursion_bomb": (
        hostile(
            "",
            extra="\n    def deep(self, k):\n        return self.deep(k + 1)\n",
            tail="        return self.deep(0)\n",
        ),  # fmt: skip
        "execution",
        "execution:error",
    ),
    "stdout_spam": (
        hostile("        for _ in range(20000):\n            print('x' * 1000)\n"),
        "passed",
        None,
    ),
    # issue 8: a pure next-bar look-ahead that memorises the full history on the first call
    # (on an object every call of a reused worker process reaches) and answers the
    # truncated/shuffled/warm-up calls from it; every call now starts from a clean process
    "memorised_full_history": (
        hostile(
            "        box = pd.Series.expanding\n"
            "        try:\n"
            "            known = box.memo\n"
            "        except AttributeError:\n"
            "            known = close\n"
            "        if len(known) < len(close):\n"
            "            known = close\n"
            "        box.memo = known\n"
            "        hits = np.flatnonzero((known[:-1] == close[0]) & (known[1:] == close[1]))\n"
            "        start = int(hits[0]) if len(hits) else 0\n"
            "        ahead = known[start + 1 : start + 1 + len(close)]\n"
            "        nxt = np.concatenate([ahead, close[len(ahead) :]])\n"
            "        return nxt > close * 1.002, nxt < close * 0.998\n"
        ),
        "lookahead",
        "lookahead:truncation",
    ),
    "little_data_switch": (
        hostile(
            "        if len(close) < 400:\n"
            "            nxt = np.append(close[1:], close[-1:])\n"
            "            return nxt > close * 1.003, nxt < close * 0.997\n"
        ),
        "lookahead",
        "lookahead:truncation",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_code_is_rejected_or_contained_and_the_sandbox_stays_healthy(name, sandbox, sample):
    code, phase, reason = HOSTILE[name]
    t0 = time.monotonic()
    report = validate(code, sandbox, sample)
    assert (report.phase, report.reason) == (phase, reason), report.detail
    assert report.passed == (reason is None)
    if phase == "ast":
        assert any(f.rule == reason and f.line >= 4 for f in report.findings)
    assert time.monotonic() - t0 < 60 * sandbox.limits.wall_s  # every call is wall-clocked
    recent = {k: v[-600:] for k, v in sample.items()}  # a short sample keeps the check cheap
    after = validate(CLEAN, sandbox, recent)
    assert after.passed, f"sandbox unhealthy after {name}: {after.reason} {after.detail}"
