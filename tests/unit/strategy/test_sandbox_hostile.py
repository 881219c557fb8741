"""Containment with the AST gate bypassed: strategy code that reaches ``os`` through pandas
(``pd.io.common.os``) meets the process boundary. After each attack the same sandbox
computes a clean strategy correctly.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from sixbtc.core.errors import StrategyRejected
from sixbtc.strategy import indicators as ind
from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox

HEAD = """
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind

class Strategy_MOM_0badbeef:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"n": [10], "sl_pct": [0.02], "tp_pct": [0.04]}

    def signals(self, data, params):
        close = data["close"]
        n = len(close)
        os = pd.io.common.os
"""
CLEAN = (
    HEAD
    + """
        sma = ind.sma(close, params["n"])
        return ind.cross_above(close, sma), ind.cross_below(close, sma)
"""
)
PARAMS = [{"n": 10, "sl_pct": 0.02, "tp_pct": 0.04}]


def _walk(n: int = 300, seed: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return {"open": close, "high": close * 1.001, "low": close * 0.999, "close": close,
            "volume": np.ones(n)}  # fmt: skip


@pytest.fixture(scope="module")
def sandbox():
    with StrategySandbox(SandboxLimits(wall_s=3.0), keep_spare=True) as sb:
        yield sb


def _healthy(sandbox: StrategySandbox) -> None:
    data = _walk()
    sandbox.load(CLEAN)
    entries, _ = sandbox.signals(data, PARAMS)
    sma = ind.sma(data["close"], 10)
    np.testing.assert_array_equal(entries[0], ind.cross_above(data["close"], sma))


def _run(sandbox: StrategySandbox, body: str):
    sandbox.load(HEAD + body)
    return sandbox.signals(_walk(), PARAMS)


def _unprivileged(sandbox: StrategySandbox) -> None:
    if sandbox.unprivileged is None:
        _healthy(sandbox)  # boots a worker, which reports its uid
    if not sandbox.unprivileged:
        pytest.skip("worker could not drop to uid nobody here (not root): documented fallback")


def test_worker_runs_as_nobody_without_network_and_with_read_only_mounts(sandbox):
    _healthy(sandbox)
    assert sandbox.unprivileged == (os.geteuid() == 0)
    assert sandbox.network_isolated is not None and sandbox.filesystem_readonly is not None


def test_planted_secret_file_cannot_be_read(sandbox):
    _healthy(sandbox)
    _unprivileged(sandbox)
    folder = tempfile.mkdtemp(prefix="sixbtc-secret-")  # /tmp: traversable by everyone
    try:
        os.chmod(folder, 0o755)
        secret = Path(folder) / "api_key.txt"
        secret.write_text("hunter2")
        secret.chmod(0o600)
        body = f"""
        fd = os.open({str(secret)!r}, os.O_RDONLY)
        return np.full(n, os.read(fd, 7) == b"hunter2"), np.zeros(n, dtype=bool)
"""
        with pytest.raises(StrategyRejected) as info:
            _run(sandbox, body)
        assert info.value.reason == "execution:error"
        assert "No such file or directory" in info.value.detail  # not even in the minimal root
    finally:
        for p in Path(folder).iterdir():
            p.unlink()
        os.rmdir(folder)
    _healthy(sandbox)


def test_environment_holds_no_secrets(sandbox, monkeypatch):
    monkeypatch.setenv("SIXBTC_API_SECRET", "hunter2")
    sandbox.close()  # the next worker is spawned with the secret in the parent's environment
    entries, exits = _run(sandbox, """
        keys = sorted(os.environ)
        return np.full(n, "SIXBTC_API_SECRET" in keys), np.full(n, len(keys) <= 6)
""")  # fmt: skip
    assert not entries.any() and exits.all()
    _healthy(sandbox)


def test_network_is_unreachable_even_on_loopback(sandbox):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        body = f"""
        import_ = pd.compat.sys.modules["socket"]
        s = import_.socket()
        s.settimeout(1.0)
        try:
            s.connect(("127.0.0.1", {port}))
            reached = True
        except Exception:  # ConnectionRefused / network unreachable
            reached = False
        return np.full(n, reached), np.zeros(n, dtype=bool)
"""
        entries, _ = _run(sandbox, body)
        if not sandbox.network_isolated:
            pytest.skip("no network namespace here (documented fallback)")
        assert not entries.any()
        with pytest.raises(TimeoutError):  # nothing connected to the host's loopback
            listener.accept()
    _healthy(sandbox)


def test_fork_bomb_is_stopped_and_leaves_no_process(sandbox):
    _unprivileged(sandbox)
    t0 = time.monotonic()
    with pytest.raises(StrategyRejected) as info:
        _run(sandbox, """
        while True:
            os.fork()
""")  # fmt: skip
    assert info.value.reason in {"execution:error", "sandbox:timeout"}
    assert time.monotonic() - t0 < sandbox.limits.wall_s + 3.0
    pid = sandbox.worker_pid
    if pid is not None:  # the zygote survived; its group holds only the zygote's processes:
        deadline = time.monotonic() + 2.0  # the two of the zygote and its idle spare
        while True:
            group = {int(p) for p in os.listdir("/proc") if p.isdigit() and _pgid(int(p)) == pid}
            if len(group) <= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert pid in group and len(group) <= 3
        proper = [p for p in group if _ppid(p) == pid]
        assert len(proper) == 1  # the zygote proper; everything else is its child (the spare)
        assert all(p in (pid, proper[0]) or _ppid(p) == proper[0] for p in group)
    _healthy(sandbox)


def _pgid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[2])


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def test_parent_cannot_be_signalled(sandbox):
    _unprivileged(sandbox)
    with pytest.raises(StrategyRejected) as info:  # signal 0 only checks the permission
        _run(sandbox, "        os.kill(os.getppid(), 0)\n")
    assert "PermissionError" in info.value.detail
    _healthy(sandbox)


def test_stdout_spam_does_not_reach_the_protocol(sandbox):
    entries, exits = _run(sandbox, """
        for _ in range(200):
            os.write(1, b"x" * 65536)
            print("y" * 1000)
        return np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
""")  # fmt: skip
    assert entries.all() and not exits.any()
    _healthy(sandbox)


def test_del_time_bomb_does_not_reach_the_parent(sandbox):
    body = """
        class Bomb:
            def __del__(self):
                while True:
                    pass
        bomb = Bomb()
        bomb.cycle = bomb   # freed only by the garbage collector, after the reply
        return close > 0, close < 0
"""
    entries, _ = _run(sandbox, body)  # the reply is out before the bomb goes off
    assert entries.all()
    t0 = time.monotonic()
    sandbox.close()  # SIGKILL to the process group: no interpreter exit, no __del__
    assert time.monotonic() - t0 < 2.0
    _healthy(sandbox)  # a fresh worker


REPO = Path(__file__).resolve().parents[3]
OPEN_PATH = """
        try:
            os.close(os.open(params["path"], os.O_RDONLY))
            readable = True
        except Exception:  # OSError is not among the strategy's builtins
            readable = False
        return np.full(n, readable), np.zeros(n, dtype=bool)
"""


def _readable(sandbox: StrategySandbox, paths: list[str]) -> dict[str, bool]:
    sandbox.load(HEAD + OPEN_PATH)
    entries, _ = sandbox.signals(_walk(), [dict(PARAMS[0], path=p) for p in paths])
    return {p: bool(row.all()) for p, row in zip(paths, entries, strict=True)}


def test_world_readable_host_files_are_invisible(sandbox, tmp_path):
    home = tmp_path / "home"  # a SixBTC home under /tmp with its database
    home.mkdir()
    planted = [home / "sixbtc.db", tmp_path / "planted.txt", REPO / f".planted-{os.getpid()}.txt",
               REPO / "src" / f".planted-{os.getpid()}.txt"]  # fmt: skip
    for folder in (tmp_path, home):
        folder.chmod(0o755)
    try:
        for path in planted:
            path.write_text("secret")
            path.chmod(0o644)  # world-readable: only the minimal root hides them
        wanted = [str(p) for p in planted] + ["/etc/passwd", "/etc/hostname", "/proc/self/environ"]
        assert _readable(sandbox, wanted) == dict.fromkeys(wanted, False)
        # the interpreter and its libraries are there (the reader works)
        lib = os.path.dirname(os.__file__)
        assert _readable(sandbox, [os.path.join(lib, "os.py"), np.__file__]) == {
            os.path.join(lib, "os.py"): True, np.__file__: True}  # fmt: skip
    finally:
        for path in planted:
            path.unlink(missing_ok=True)
    _healthy(sandbox)


def test_the_root_holds_only_the_interpreter_and_its_libraries(sandbox):
    with pytest.raises(StrategyRejected) as info:
        _run(sandbox, """
        listing = {d: sorted(os.listdir(d)) for d in ("/", "/root") if os.path.isdir(d)}
        raise ValueError(repr(listing))
""")  # fmt: skip
    listing = eval(info.value.detail.split("ValueError: ", 1)[1].rsplit(" (line", 1)[0])  # noqa: S307
    needed = {p.split("/")[1] for p in (sys.prefix, sys.base_prefix, np.__file__)}
    assert set(listing["/"]) <= needed | {"bin", "lib", "lib64", "sbin", "usr", "etc", "dev"}
    assert not {"home", "proc", "sys", "var", "run", "tmp"} & (set(listing["/"]) - needed)
    inside_root = {p.split("/")[2] for p in (sys.prefix, sys.base_prefix) if p.startswith("/root/")}
    assert set(listing.get("/root", [])) <= inside_root  # /root holds only the way to Python


LAZY = """
        s = pd.Series(close)
        frame = pd.DataFrame({"a": close, "b": s.shift(1)})
        text = repr(frame.head()) + str(frame.describe()) + repr(s.tail())
        x = s.rolling(10).apply(lambda w: w.mean(), raw=True) + s.ewm(span=5).mean()
        x = x + s.expanding().std() + s.rolling(20).quantile(0.9) + s.rolling(5).corr(s.shift(1))
        fit = np.polyfit(np.arange(20.0), close[:20], 2)
        sol = np.linalg.lstsq(np.vstack([np.arange(20.0), np.ones(20)]).T, close[:20], rcond=None)
        s.index = pd.date_range("2024-01-01", periods=n, freq="h")
        h4 = s.resample("4h").max()
        bins = pd.qcut(close, 4, labels=False)
        ok = len(text) > 0 and len(fit) == 3 and len(sol[0]) == 2 and len(h4) > 0
        return np.full(n, ok), np.zeros(n, dtype=bool)
"""


def test_lazy_imports_of_numpy_and_pandas_work_inside(sandbox):
    entries, _ = _run(sandbox, LAZY)
    assert entries.all()


FORGED_REPLY = """
        fcntl = pd.compat.sys.modules["importlib"].import_module("fcntl")
        struct = pd.compat.sys.modules["struct"]
        head = b"{'descr': '|u1', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"
        head += b" " * (63 - (10 + len(head)) % 64) + b"\\n"
        record = b"\\x93NUMPY\\x01\\x00" + struct.pack("<H", len(head)) + head
        arrays = ",".join('{"name":"%s","nbytes":%d}' % (k, len(record)) for k in ("entries", "exits"))
        header = ('{"ok":true,"arrays":[' + arrays + ']}').encode()
        for fd in range(3, 32):  # the reply pipe: the one write-only fd
            try:
                if fcntl.fcntl(fd, fcntl.F_GETFL) & 3 == os.O_WRONLY:
                    os.write(fd, struct.pack(">I", len(header)) + header + record + record)
            except Exception:  # OSError: no such fd
                pass
        os._exit(0)
"""


def test_a_forged_reply_is_a_rejection_not_a_crash_of_the_parent(sandbox):
    """Before: the parent's reader raised ValueError (a shape whose size overflows int64 to
    0) out of ``signals``, past the ``StrategyRejected`` every caller handles."""
    with pytest.raises(StrategyRejected) as info:
        _run(sandbox, FORGED_REPLY)
    assert info.value.reason == "sandbox:crashed" and "malformed array record" in info.value.detail
    _healthy(sandbox)
