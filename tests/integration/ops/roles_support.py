"""Shared helpers of the process-role tests: a home with candles and strategies, the worker
command in a subprocess (offline), and waits."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.app.container import Container
from sixbtc.app.generation import generate_batch
from sixbtc.app.home import Home

SIXBTC = Path(sys.executable).with_name("sixbtc")
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}


def candles(n: int, freq: str = "1h", seed: int = 1) -> pd.DataFrame:
    """A random-walk OHLCV frame of ``n`` bars."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2024-01-01", periods=n, freq=freq, tz="UTC")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    open_ = np.r_[close[0], close[:-1]]
    return pd.DataFrame({"timestamp": ts, "open": open_, "high": np.maximum(open_, close) * 1.002,
                         "low": np.minimum(open_, close) * 0.998, "close": close, "volume": 1.0})


def make_home(tmp_path: Path, config: str = "", generate: int = 0) -> Path:
    """A home with 6000 1h BTC candles, ``config`` and ``generate`` GENERATED strategies."""
    home = tmp_path / "home"
    store = ParquetCandleStore(Home(home).store_dir)
    store.write_candles("BTC", "1h", candles(6000))
    gen = "" if "generator:" in config else "generator:\n  seed: 7\n"
    (home / "config.yaml").write_text("data:\n  network_probe_timeout_s: 1\nbacktest:\n  timeframes: [1h]\n" + gen + config)
    if generate:
        c = Container.open(Home(home))
        generate_batch(c, generate, np.random.default_rng(7))
        c.engine.dispose()
    return home


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker: no SIXBTC variables of the caller, no internet."""
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith(("SIXBTC", "NO_PROXY"))}
    return base | OFFLINE | (extra or {})


def start_worker(home: Path, role: str, log_path: Path, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``sixbtc worker ROLE`` with its output in ``log_path``."""
    out = log_path.open("wb")
    return subprocess.Popen([str(SIXBTC), "--home", str(home), "worker", role], stdout=out, stderr=subprocess.STDOUT,
                            env=env(extra_env))


def wait_until(check: Callable[[], bool], timeout_s: float, every_s: float = 0.05) -> bool:
    """Poll ``check`` until it is true or ``timeout_s`` passed; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every_s)
    return check()


def query(home: Path, sql: str) -> list[tuple]:
    """Rows of ``sql`` on the home's SQLite database ([] while it does not exist)."""
    db = home / "sixbtc.db"
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=10) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []


def children(pid: int) -> list[int]:
    """Pids of the direct children of ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return stat[0] != "Z"
