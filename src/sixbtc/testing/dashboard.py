"""A dashboard world for the browser tests and ``benchmarks/bench_dashboard.py``: a home seeded
by a real ``sixbtc run --once`` on a slice of the real market data, and the real ``sixbtc api``
server over it, on 127.0.0.1.

Everything goes through the product's command line in child processes (``sixbtc data import``,
``sixbtc run --once``, ``sixbtc api``), so what the browser sees is what a user gets. The server
is told its token by ``SIXBTC__API__TOKEN`` and its push period by ``SIXBTC__API__PUSH_INTERVAL_S``;
its login URL is read from what it prints (``open: URL#token=…``, see ``sixbtc.cli.api_cmd``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

#: The real data folder beside the repository (``../shared/data``), Binance USDⓈ-M perpetuals.
DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "binance_usdm"
#: Debian's chromium (``apt-get install chromium``; ``make chromium`` installs it).
CHROMIUM = Path(os.environ.get("SIXBTC_CHROMIUM", "/usr/bin/chromium"))
SYMBOLS = ("BTC", "ETH", "SOL")
#: A small, quick and permissive cycle (the gates that cost time or refuse most strategies are
#: off): strategies reach the pool, some go LIVE on paper and trade in the replay. For the
#: dashboard's tests only, never a research configuration.
SEED_CONFIG = """
backtest:
  timeframes: [1h]
  max_coins: 2
  max_param_sets: 4
  search_rungs: 1
  min_trades: 3
  max_degradation: 1.0
  min_excess_return: -100
  wfa_windows: 0
  shuffle_permutations: 0
  confirm_twins: 0
  causality_cuts: 1
  workers: 1
validator:
  cut_points: 1
  extra_cut_points: 1
  sample_bars: 500
generator:
  workers: 1
  sources: [template]
scoring:
  multiple_testing_gate: false
  factory_trials: false
active_pool:
  max_size: 5
  min_score: 0
rotator:
  min_score_live: 0
  require_confirmation: false
  max_live_strategies: 2
executor:
  replay_days: 10
"""
TOKEN = "dashboard-test-token-4f7c1a9e0b2d8c6f5a3e1d0c9b8a7f6e"


def sixbtc(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the ``sixbtc`` command of this interpreter (``python -m sixbtc.cli.main``); raises
    ``RuntimeError`` with its output when it exits non-zero."""
    res = subprocess.run([sys.executable, "-m", "sixbtc.cli.main", *args], capture_output=True, text=True,
                         timeout=timeout, env={**os.environ, **(env or {})}, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"sixbtc {' '.join(args)} exited {res.returncode}:\n{res.stdout}\n{res.stderr}")
    return res


def seed_home(root: Path, data: Path = DATA, generate: int = 6, seed: int = 7) -> Path:
    """Import the 1h candles and funding of :data:`SYMBOLS` from ``data`` into a new home at
    ``root`` and run one ``sixbtc run --once --generate N --seed S`` cycle on it; return ``root``.

    Raises
    ------
    FileNotFoundError
        ``data`` is not a folder.
    RuntimeError
        A command failed (its output is in the message).
    """
    if not data.is_dir():
        raise FileNotFoundError(f"real market data not found at {data}")
    src = root.parent / f"{root.name}-slice"
    src.mkdir(parents=True, exist_ok=True)
    for sym in SYMBOLS:
        for suffix in ("1h", "funding"):
            if (f := data / f"{sym}_{suffix}.parquet").exists():
                shutil.copy(f, src / f.name)
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(SEED_CONFIG)
    sixbtc("--home", str(root), "data", "import", str(src), "--timeframes", "1h")
    sixbtc("--home", str(root), "run", "--once", "--generate", str(generate), "--seed", str(seed))
    shutil.rmtree(src, ignore_errors=True)
    return root


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Served:
    """A running ``sixbtc api``: its ``url`` (``http://127.0.0.1:PORT/``) and the ``login_url``
    it printed (token in the fragment)."""

    url: str
    login_url: str
    process: subprocess.Popen


@contextlib.contextmanager
def serve(root: Path, token: str = TOKEN, push_interval_s: float = 0.5, timeout_s: float = 120) -> Iterator[Served]:
    """Run ``sixbtc --home ROOT api --port P`` until the block ends (then terminated, killed
    after 5 s). Waits until it answers ``/api/status`` and has printed its login URL.

    Raises
    ------
    RuntimeError
        It exited, or did not answer within ``timeout_s`` seconds (its output is in the message).
    """
    port = free_port()
    env = {**os.environ, "SIXBTC__API__TOKEN": token, "SIXBTC__API__PUSH_INTERVAL_S": str(push_interval_s),
           "COLUMNS": "400"}
    proc = subprocess.Popen([sys.executable, "-m", "sixbtc.cli.main", "--home", str(root), "api", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        login = _wait_ready(proc, f"http://127.0.0.1:{port}/", timeout_s)
        yield Served(f"http://127.0.0.1:{port}/", login, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _wait_ready(proc: subprocess.Popen, url: str, timeout_s: float) -> str:
    """Read the printed lines until the login URL, then poll ``/api/status``; return the login URL."""
    deadline, login, seen = time.monotonic() + timeout_s, None, []
    while login is None:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line and proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"sixbtc api did not start: {''.join(seen)}")
        seen.append(line)
        if line.startswith("open: "):
            login = line.removeprefix("open: ").strip()
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "api/status", timeout=2).status_code == 200:
                return login
        time.sleep(0.1)
    raise RuntimeError(f"sixbtc api at {url} did not answer within {timeout_s} s")
