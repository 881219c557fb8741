"""Where the sandbox's namespaces cannot be created, strategy code is not run (issue 8).

A real platform without isolation is made for the test: a user namespace whose limit of
nested user namespaces is 0 (``user.max_user_namespaces``), entered by a process with a
non-zero uid inside it (no capabilities) that keeps root's file access outside (so the
interpreter under ``/root`` stays readable). There the sandbox must refuse with a
``ConfigError`` naming the opt-out, and run (unisolated) only when it is set.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sixbtc.strategy import sandbox_namespaces as ns

SCRIPT = """
from sixbtc.core.errors import ConfigError
from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox
code = '''
class Strategy_MOM_00c0ffee:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"sl_pct": [0.02], "tp_pct": [0.04]}
    def signals(self, data, params):
        return data["close"] > 0, data["close"] < 0
'''
try:
    with StrategySandbox() as sb:
        sb.load(code)
    print("ran without isolation")
except ConfigError as exc:
    print("refused:", exc)
with StrategySandbox(SandboxLimits(allow_unisolated=True)) as sb:
    spec = sb.load(code)
    print("opt-out:", spec.class_name, sb.isolation, sb.filesystem_isolated)
"""
MAP = "0 100000 1\n1 0 1\n"  # inside uid 1 = root outside (files), inside uid 0 unused


UNPRIVILEGED = '''
import numpy as np
from sixbtc.strategy.sandbox import StrategySandbox
code = """
import numpy as np
import pandas as pd
class Strategy_MOM_0bad0001:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"sl_pct": [0.02], "tp_pct": [0.04]}
    def signals(self, data, params):
        close = data["close"]
        os = pd.io.common.os
        try:
            seen = np.memo            # left by the previous call?
        except AttributeError:
            seen = False
        np.memo = True
        try:
            os.close(os.open("/etc/passwd", os.O_RDONLY))
            readable = True
        except Exception:
            readable = False
        return np.full(len(close), seen or readable), close < 0
"""
data = {k: np.linspace(1.0, 2.0, 50) for k in ("open", "high", "low", "close", "volume")}
with StrategySandbox() as sb:
    sb.load(code)
    leaks = [bool(sb.signals(data, [{"sl_pct": 0.02, "tp_pct": 0.04}])[0].any()) for _ in range(3)]
    print("mode:", sb.isolation, sb.filesystem_isolated, sb.network_isolated, sb.nested_userns,
          "uid", __import__("os").getuid(), "leaks", leaks)
'''


SIGNALS = '''
import numpy as np
from sixbtc.strategy.sandbox import StrategySandbox
code = """
import numpy as np
import pandas as pd
class Strategy_MOM_0bad0002:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"attack": [0, 1], "sl_pct": [0.02], "tp_pct": [0.04]}
    def signals(self, data, params):
        close = data["close"]
        os = pd.io.common.os
        me, reached = os.getpid(), []
        if params["attack"]:
            for pid in range(1, 64):  # the zygote (1), the next call's spare, anything else
                if pid != me:
                    for sig in (0, 2, 19, 9):  # probe, SIGINT (a handler in Python), SIGSTOP, SIGKILL
                        try:
                            os.kill(pid, sig)
                            reached.append((pid, sig))
                        except Exception:  # PermissionError / ProcessLookupError
                            pass
        raise ValueError(repr((me, reached)))
"""
data = {k: np.linspace(1.0, 2.0, 50) for k in ("open", "high", "low", "close", "volume")}
with StrategySandbox() as sb:
    sb.load(code)
    seen = []
    for attack in (1, 0):
        try:
            sb.signals(data, [{"attack": attack, "sl_pct": 0.02, "tp_pct": 0.04}])
        except Exception as exc:
            seen.append(str(exc).split("ValueError: ")[1].split(" (line")[0])
    print("mode:", sb.isolation, "starts", sb.starts, "seen", seen)
'''


def _run_unprivileged(script: str, forbid_user_namespaces: bool) -> str:
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(ready_r), os.close(go_w), os.close(out_r)
            ns.unshare(ns.CLONE_NEWUSER)
            os.write(ready_w, b"1")
            os.read(go_r, 1)
            if forbid_user_namespaces:
                with open("/proc/sys/user/max_user_namespaces", "w") as fh:
                    fh.write("0")
            os.dup2(out_w, 1)
            os.dup2(out_w, 2)
            os.execv(sys.executable, [sys.executable, "-c", script])  # exec: capabilities dropped
        finally:
            os._exit(70)
    os.close(ready_w), os.close(go_r), os.close(out_w)
    try:
        assert os.read(ready_r, 1) == b"1"
        for name in ("uid_map", "gid_map"):
            with open(f"/proc/{pid}/{name}", "w") as fh:
                fh.write(MAP)
        os.write(go_w, b"1")
        chunks = []
        while chunk := os.read(out_r, 65536):
            chunks.append(chunk)
    finally:
        os.waitpid(pid, 0)
    return b"".join(chunks).decode()


def test_without_namespaces_the_sandbox_refuses_unless_the_opt_out_is_set():
    if os.geteuid() != 0:
        pytest.skip("building the namespace-less platform needs root (to write a 2-line uid_map)")
    out = _run_unprivileged(SCRIPT, forbid_user_namespaces=True)
    assert "refused: sandbox isolation is unavailable here" in out, out
    assert "validator.allow_unisolated_sandbox" in out
    assert "ran without isolation" not in out
    assert "opt-out: Strategy_MOM_00c0ffee none False" in out, out


def test_an_unprivileged_user_gets_the_same_isolation_through_a_user_namespace():
    if os.geteuid() != 0:
        pytest.skip("building the unprivileged caller needs root (to write a 2-line uid_map)")
    out = _run_unprivileged(UNPRIVILEGED, forbid_user_namespaces=False)
    assert "mode: userns True True True uid 1 leaks [False, False, False]" in out, out


def test_an_unprivileged_call_cannot_signal_the_zygote_or_the_next_calls_process():
    """Every process of an unprivileged sandbox has the caller's uid: only the system-call
    filter keeps a call from stopping or killing the zygote or the spare forked for the next
    call (whose pid it could then tell: a channel between calls)."""
    if os.geteuid() != 0:
        pytest.skip("building the unprivileged caller needs root (to write a 2-line uid_map)")
    out = _run_unprivileged(SIGNALS, forbid_user_namespaces=False)
    line = next((ln for ln in out.splitlines() if ln.startswith("mode:")), out)
    assert line.startswith("mode: userns starts 1 seen"), out
    (me, reached), (next_pid, _) = (eval(s) for s in eval(line.split(" seen ", 1)[1]))  # noqa: S307
    assert reached == [], f"the call reached other processes: {reached}"
    assert next_pid == me + 1  # the spare forked during the attack served the next call


def test_the_isolated_sandbox_reports_its_mode():
    from sixbtc.strategy.sandbox import StrategySandbox

    with StrategySandbox() as sb:
        sb.load(SCRIPT.split("'''")[1])
        assert sb.isolation in {"root", "userns"} and sb.filesystem_isolated
        assert sb.network_isolated and sb.filesystem_readonly and sb.unprivileged
        assert subprocess.run(["true"]).returncode == 0  # noqa: S603, S607 - host unaffected
