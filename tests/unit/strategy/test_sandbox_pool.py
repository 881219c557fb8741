"""The pool of spares and the widened pipes: fresh processes, same signals, large messages."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from sixbtc.core.errors import ConfigError
from sixbtc.strategy import indicator_cache
from sixbtc.strategy.sandbox import StrategySandbox
from sixbtc.strategy.sandbox_worker import Worker, read_only_data

CODE = '''
import numpy as np
from sixbtc.strategy import indicators as ind


class Strategy_MOM_0000a001:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"fast": [5, 8], "slow": [30, 60], "sl_pct": [0.02], "tp_pct": [0.04]}

    def signals(self, data, params):
        fast, slow = ind.sma(data["close"], params["fast"]), ind.sma(data["close"], params["slow"])
        return ind.cross_above(fast, slow), ind.cross_below(fast, slow)
'''


def _walk(n: int, seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    return {"open": close, "high": close * 1.002, "low": close * 0.998, "close": close,
            "volume": np.ones(n)}


def _in_process(data: dict[str, np.ndarray], params: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    worker = Worker(CODE)
    try:
        return worker.signals(read_only_data(data), params)
    finally:
        indicator_cache.deactivate()


def _group(pgid: int) -> set[int]:
    out = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                out.add(int(name))
    return out


def _sandbox(**kw) -> StrategySandbox:
    box = StrategySandbox(**kw)
    try:
        box.load(CODE)
    except ConfigError as exc:  # no namespaces here and unisolated runs not allowed
        box.close()
        pytest.skip(f"sandbox unavailable: {exc}")
    return box


def test_a_pool_of_two_keeps_two_idle_spares_and_gives_the_same_signals() -> None:
    data = _walk(600)
    params = [{"fast": 5, "slow": 30}, {"fast": 8, "slow": 60}]
    with _sandbox(spares=2) as box:
        got = [box.signals(data, params) for _ in range(3)]
        deadline, group = time.monotonic() + 10.0, set()
        while time.monotonic() < deadline:  # first process, zygote proper, two idle spares
            group = _group(box.worker_pid)
            if len(group) == 4:
                break
            time.sleep(0.05)
        assert len(group) == 4, group
    want = _in_process(data, params)
    for entries, exits in got:
        np.testing.assert_array_equal(entries, want[0])
        np.testing.assert_array_equal(exits, want[1])
    assert want[0].any() and want[1].any()


def test_requests_and_replies_larger_than_a_pipe_and_than_the_widening_cap() -> None:
    data = _walk(20_000)  # request ~800 KB (> 64 KiB default pipe), reply 2 x 400 x 2,500 B > 1 MiB
    params = [{"fast": 5 + k % 4, "slow": 30 + k % 7} for k in range(400)]
    with _sandbox() as box:
        entries, exits = box.signals(data, params)
    want = _in_process(data, params)
    np.testing.assert_array_equal(entries, want[0])
    np.testing.assert_array_equal(exits, want[1])
