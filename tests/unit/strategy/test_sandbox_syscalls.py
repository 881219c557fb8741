"""The kernel objects a call could reach past its namespaces (issue 8), AST gate bypassed.

Each attack succeeded before the system-call filter (:mod:`sixbtc.strategy.sandbox_seccomp`):
a call read a secret from the parent's session keyring and left a key there, made a user
namespace of its own and mounted a ``cgroup2`` tree, and opened an ``AF_VSOCK`` socket (no
network namespace confines it). The unprivileged variant (signals to the zygote and to the
next call's process) is in ``test_sandbox_isolation.py``.
"""

from __future__ import annotations

import ctypes
import json
import platform
import subprocess
import sys

import numpy as np
import pytest

from sixbtc.core.errors import StrategyRejected
from sixbtc.strategy import sandbox_seccomp as seccomp
from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox

HEAD = """
import numpy as np
import pandas as pd

class Strategy_MOM_5ecc0mb0:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"sl_pct": [0.02], "tp_pct": [0.04]}

    def signals(self, data, params):
        modules = pd.compat.sys.modules
        ctypes = modules["importlib"].import_module("ctypes")
        libc = ctypes.CDLL(None, use_errno=True)
        res = {}
"""
#: (add_key, keyctl) numbers; the test needs them, the sandbox refuses them.
KEY_CALLS = {"x86_64": (248, 250), "aarch64": (217, 219)}
DATA = {k: np.linspace(1.0, 2.0, 64) for k in ("open", "high", "low", "close", "volume")}
PARAMS = [{"sl_pct": 0.02, "tp_pct": 0.04}]


def _report(sandbox: StrategySandbox, body: str) -> dict:
    """Run ``body`` (it fills ``res``) in a call; return ``res``."""
    code = HEAD + "".join(f"        {line}\n" for line in body.strip().splitlines())
    sandbox.load(code + "        raise ValueError(repr(res))\n")
    with pytest.raises(StrategyRejected) as info:
        sandbox.signals(DATA, PARAMS)
    return eval(info.value.detail.split("ValueError: ", 1)[1].rsplit(" (line", 1)[0])  # noqa: S307


@pytest.fixture(scope="module")
def sandbox():
    with StrategySandbox(SandboxLimits(wall_s=5.0)) as sb:
        yield sb


def test_new_namespaces_and_mounts_are_refused(sandbox):
    res = _report(sandbox, """
for name, flags in (("user", 0x10000000), ("mount", 0x20000), ("cgroup", 0x2000000), ("net", 0x40000000)):
    res[name] = (libc.unshare(flags), ctypes.get_errno())
res["cgroup2"] = (libc.mount(b"cgroup2", b"/root", b"cgroup2", 0, None), ctypes.get_errno())
res["own_pid"] = libc.kill(modules["os"].getpid(), 0)
""")  # fmt: skip
    if sandbox.syscall_filter != "on":
        pytest.skip(f"no system-call filter here ({sandbox.syscall_filter})")
    assert res.pop("own_pid") == 0  # the reader works: signalling itself is allowed
    assert res == dict.fromkeys(("user", "mount", "cgroup", "net", "cgroup2"), (-1, 1))  # EPERM


def test_only_unix_inet_and_netlink_sockets_can_be_opened(sandbox):
    res = _report(sandbox, """
socket = modules["socket"]
for family, kind in ((1, 1), (2, 2), (10, 2), (16, 3), (40, 1), (17, 3), (38, 5)):
    try:
        socket.socket(family, kind).close()
        res[family] = "open"
    except Exception as exc:  # PermissionError / address family not supported
        res[family] = exc.__class__.__name__
""")  # fmt: skip
    if sandbox.syscall_filter != "on":
        pytest.skip(f"no system-call filter here ({sandbox.syscall_filter})")
    assert {f: res[f] for f in (1, 2, 10, 16)} == dict.fromkeys((1, 2, 10, 16), "open")
    # AF_VSOCK, AF_PACKET, AF_ALG: refused before the kernel looks at them
    assert {f: res[f] for f in (40, 17, 38)} == dict.fromkeys((40, 17, 38), "PermissionError")


SESSION = """
import ctypes, json, sys
import numpy as np
from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox
add_key, keyctl = {calls}
libc = ctypes.CDLL(None, use_errno=True)
if libc.syscall(keyctl, 1, b"sixbtc-test-session") < 0:  # KEYCTL_JOIN_SESSION_KEYRING
    print(json.dumps({{"skip": ctypes.get_errno()}}))
    sys.exit(0)
libc.syscall(add_key, b"user", b"sixbtc-secret", b"hunter2", 7, -3)  # the user's secret
code = {code!r}
with StrategySandbox(SandboxLimits(wall_s=5.0)) as sb:
    sb.load(code)
    entries, exits = sb.signals({{k: np.linspace(1.0, 2.0, 64) for k in
                                  ("open", "high", "low", "close", "volume")}},
                                [{{"sl_pct": 0.02, "tp_pct": 0.04}}])
planted = libc.syscall(keyctl, 10, -3, b"user", b"left-by-strategy", 0)  # KEYCTL_SEARCH
print(json.dumps({{"read": bool(entries.all()), "planted": planted >= 0, "filter": sb.syscall_filter}}))
"""
STEAL = """
        add_key, keyctl = {calls}
        key = libc.syscall(keyctl, 10, -3, b"user", b"sixbtc-secret", 0)
        buf = ctypes.create_string_buffer(16)
        got = libc.syscall(keyctl, 11, key, buf, 16) if key >= 0 else -1  # KEYCTL_READ
        libc.syscall(add_key, b"user", b"left-by-strategy", b"1", 1, -3)
        close = data["close"]
        return np.full(len(close), got == 7 and buf.raw[:7] == b"hunter2"), close < 0
"""


def test_the_parents_session_keyring_is_out_of_reach():
    calls = KEY_CALLS.get(platform.machine())
    if calls is None:
        pytest.skip(f"keyctl numbers of {platform.machine()} not known to the test")
    code = HEAD.replace("        res = {}\n", "") + STEAL.format(calls=calls)
    script = SESSION.format(calls=calls, code=code)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)  # noqa: S603
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    if "skip" in out:
        pytest.skip(f"no session keyring can be joined here (errno {out['skip']})")
    assert out == {"read": False, "planted": False, "filter": "on"}


def test_the_keyring_calls_are_refused(sandbox):
    calls = KEY_CALLS.get(platform.machine())
    if calls is None:
        pytest.skip(f"keyctl numbers of {platform.machine()} not known to the test")
    res = _report(sandbox, f"""
add_key, keyctl = {calls}
res["add_user"] = (libc.syscall(add_key, b"user", b"memo", b"1", 1, -4), ctypes.get_errno())
res["get_session"] = (libc.syscall(keyctl, 0, -3, 0), ctypes.get_errno())
""")  # fmt: skip
    assert res == {"add_user": (-1, 1), "get_session": (-1, 1)}


@pytest.mark.parametrize("machine", sorted(seccomp.TABLES))
def test_every_filter_program_jumps_forward_and_ends_in_a_return(machine):
    prog = seccomp.program(seccomp.TABLES[machine], 4)
    assert len(prog) < 4096 and prog[-1][0] == 0x06
    for i, (code, jt, jf, _k) in enumerate(prog):
        if code in (0x15, 0x35):  # conditional jumps: targets inside the program
            assert min(jt, jf) >= 0 and i + 1 + max(jt, jf) < len(prog)


def test_the_filter_refuses_in_a_process_of_its_own():
    """The filter installed in a forked child: namespaces refused, ordinary calls work."""
    if platform.machine() not in seccomp.TABLES:
        pytest.skip(f"no filter for {platform.machine()}")
    script = (
        "import ctypes, os\n"
        "from sixbtc.strategy import sandbox_seccomp as s, sandbox_namespaces as ns\n"
        "ns.prctl(ns.PR_SET_NO_NEW_PRIVS, 1)\n"
        "assert s.install() == 'on'\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print(libc.unshare(0), ctypes.get_errno(), os.getpid() > 0, open(os.devnull).read())\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)  # noqa: S603
    assert run.stdout.split() == ["-1", "1", "True"], run.stderr
    assert ctypes.CDLL(None).unshare(0) == 0  # unfiltered: unshare(0) changes nothing
