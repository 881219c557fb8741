"""The sandbox's processes die with their parent and leave nothing on the host (issue 8).

Real signals on real subprocesses: a process using a sandbox (or running a factory role
pool with sandboxes) is killed with SIGKILL / SIGINT / SIGTERM mid-call; every process it
started must be gone within a few seconds and no ``sixbtc-sandbox-*`` folder may remain.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sixbtc.strategy.sandbox_process import remove_stale_folders

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "binance_usdm"
BUSY = """
import faulthandler
import signal
import sys
# Ctrl-C as an interactive parent has it, whatever disposition or mask the test runner passed on
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
faulthandler.register(signal.SIGUSR1, all_threads=True)  # where it waits, if it does not stop
import numpy as np
from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox
code = '''
import numpy as np
class Strategy_MOM_0b5e55ed:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"spin": [0], "sl_pct": [0.02], "tp_pct": [0.04]}
    def signals(self, data, params):
        close = data["close"]
        while params["spin"]:
            pass
        return close > 0, close < 0
'''
data = {k: np.linspace(1.0, 2.0, 300) for k in ("open", "high", "low", "close", "volume")}
with StrategySandbox(SandboxLimits(wall_s=120.0)) as sb:
    sb.load(code)
    sb.signals(data, [{"spin": 0, "sl_pct": 0.02, "tp_pct": 0.04}])
    print("busy", flush=True)
    sb.signals(data, [{"spin": 1, "sl_pct": 0.02, "tp_pct": 0.04}])  # spins until killed
"""


def _children() -> dict[int, int]:
    """pid -> ppid of every process."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                out[int(name)] = int(fields[1])
    return out


def _descendants(root: int) -> set[int]:
    table, found, frontier = _children(), set(), {root}
    while frontier:
        frontier = {p for p, pp in table.items() if pp in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    return pids & set(_children())


def _wait_gone(pids: set[int], timeout: float = 5.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _alive(pids)


def _start_busy(tmp_path: Path) -> tuple[subprocess.Popen, set[int]]:
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", BUSY], stdout=subprocess.PIPE, env=env,  # noqa: S603
                            start_new_session=True, text=True)  # fmt: skip
    assert proc.stdout.readline().strip() == "busy"
    time.sleep(0.3)  # the spinning call's process is running
    family = _descendants(proc.pid)
    assert family
    return proc, family


def _kill_all(pids: set[int]) -> None:
    """Clean up after a failure: SIGKILL what this test started and is still alive."""
    for pid in _alive(pids):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_sandbox_processes_die_with_their_parent_and_leave_no_folder(tmp_path, sig):
    proc, family = _start_busy(tmp_path)
    try:
        os.kill(proc.pid, sig)
        try:
            proc.wait(timeout=30)  # a loaded 2-core machine (full suite, -n 2) needed over 10 s for SIGINT
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGUSR1)  # its threads' stacks go to the captured stderr
            time.sleep(1.0)
            raise
        assert not _wait_gone(family), f"survived {sig.name} of the parent: {_alive(family)}"
        assert not list(tmp_path.glob("sixbtc-sandbox-*"))
    finally:
        _kill_all(family)


def test_stale_folders_of_earlier_versions_are_removed(tmp_path):
    stale = tmp_path / "sixbtc-sandbox-old1"
    stale.mkdir()
    (stale / "leftover.bin").write_bytes(b"x")
    in_use = tmp_path / "sixbtc-sandbox-live"  # the cwd of a running (old-version) worker
    in_use.mkdir()
    young = tmp_path / "sixbtc-sandbox-new1"  # just made by an old worker about to start
    young.mkdir()
    for path in (stale, in_use):
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    sleeper = subprocess.Popen(["sleep", "30"], cwd=in_use)  # noqa: S603, S607
    try:
        assert remove_stale_folders(str(tmp_path)) == 1
        assert not stale.exists() and in_use.exists() and young.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


CONFIG = """
validator:
  workers: 2
generator:
  workers: 2
backtest:
  timeframes: [1h]
  max_coins: 2
  workers: 2
"""


def test_factory_pool_workers_and_their_sandboxes_die_with_a_killed_main_process(tmp_path):
    if not DATA.is_dir():
        pytest.skip(f"real market data not found at {DATA} (../shared/data is absent)")
    src, home = tmp_path / "src", tmp_path / "home"
    src.mkdir()
    for sym in ("BTC", "ETH"):
        shutil.copy(DATA / f"{sym}_1h.parquet", src)
    home.mkdir()
    (home / "config.yaml").write_text(CONFIG)
    cli = [sys.executable, "-m", "sixbtc.cli.main", "--home", str(home)]
    env = dict(os.environ, TMPDIR=str(tmp_path))
    done = subprocess.run([*cli, "data", "import", str(src), "--timeframes", "1h"], env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    main = subprocess.Popen([*cli, "run", "--once", "--generate", "60", "--seed", "3"], env=env,  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    family: set[int] = set()
    try:
        family = _wait_for_zygotes(main.pid)
        os.kill(main.pid, signal.SIGKILL)
        main.wait(timeout=10)
        assert not _wait_gone(family, 8.0), f"outlived kill -9 of main: {_alive(family)}"
    finally:
        if main.poll() is None:
            main.kill()
        _kill_all(family)
    assert not list(tmp_path.glob("sixbtc-sandbox-*"))


def _wait_for_zygotes(pid: int, timeout: float = 90.0) -> set[int]:
    """Descendants of ``pid`` once at least two sandbox processes (pool workers') run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        family = _descendants(pid)
        zygotes = [p for p in family if b"sandbox_" in _cmdline(p)]
        if len(zygotes) >= 2:
            time.sleep(0.5)  # let them start calls
            return family | _descendants(pid)
        time.sleep(0.1)
    raise AssertionError(f"no pool worker started a sandbox within {timeout} s")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
