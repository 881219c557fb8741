"""A ``kill -9`` at any moment of a store write leaves the old file or the new one, never a part.

A writer subprocess grows one series in a loop (state k = the first 40·k candles); the test
kills it with SIGKILL at random moments, many times, and after every kill reads the file raw
(pyarrow, not the repairing store reader): it must be a complete Parquet file holding exactly
one of the states, and the store must read it without quarantining anything.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sixbtc.adapters.storage.candle_store import ParquetCandleStore

STEP = 40
T0 = pd.Timestamp("2025-01-01", tz="UTC")

WRITER = r"""
import sys
import numpy as np, pandas as pd
from sixbtc.adapters.storage.candle_store import ParquetCandleStore
root, start = sys.argv[1], int(sys.argv[2])
store = ParquetCandleStore(root, cache_size=0)
n = 20000
base = 100.0 + np.arange(n) * 0.01
frame = pd.DataFrame({"timestamp": pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC", unit="ns"),
                      "open": base, "high": base + 1, "low": base - 1, "close": base + 0.5, "volume": np.ones(n)})
k = start
while 40 * k <= n:
    store.write_candles("BTC", "1h", frame.iloc[: 40 * k])
    print(k, flush=True)
    k += 1
"""


def _expected(rows: int) -> pd.DataFrame:
    base = 100.0 + np.arange(rows) * 0.01
    return pd.DataFrame({"timestamp": pd.date_range(T0, periods=rows, freq="1h", unit="ns"), "open": base,
                         "high": base + 1, "low": base - 1, "close": base + 0.5, "volume": np.ones(rows)})


def test_kill_9_during_writes_never_leaves_a_partial_file(tmp_path: Path) -> None:
    root = tmp_path / "store"
    ParquetCandleStore(root).write_candles("BTC", "1h", _expected(STEP))
    path = root / "BTC_1h.parquet"
    rng = random.Random(7)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    start, kills = 2, 0
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(start)], stdout=subprocess.PIPE,
                                text=True, env=env)
        assert proc.stdout is not None
        for _ in range(rng.randint(1, 4)):  # let it complete a few writes, then kill it mid-way
            proc.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.03))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        raw = pd.read_parquet(path)  # raw read: a partial file would fail here
        assert len(raw) % STEP == 0 and len(raw) >= STEP * start - STEP
        pd.testing.assert_frame_equal(raw, _expected(len(raw)), check_freq=False)
        store = ParquetCandleStore(root)
        assert len(store.read_candles("BTC", "1h")) == len(raw)
        assert store.entry("BTC", "1h") is not None  # a stale sidecar is rewritten, the file kept
        assert not (root / "quarantine").exists()
        start = len(raw) // STEP + 1
    assert kills == 12
    leftovers = [p.name for p in root.iterdir() if p.name.endswith(".tmp")]
    assert all(p.startswith(".BTC_1h.") for p in leftovers)  # only temp files of killed writes
