"""The strategy sandbox: worker process, limits, recovery, error reporting."""

from __future__ import annotations

import os
import pathlib
import tempfile
import time

import numpy as np
import pytest

from sixbtc.core.errors import ConfigError, DataError, StrategyRejected
from sixbtc.strategy import indicators as ind
from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox

HEAD = """
import numpy as np
import pandas as pd
from sixbtc.strategy import indicators as ind

class Strategy_MOM_abcd1234:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h", "4h")
    param_space = {"fast": [5, 10], "slow": [30, 60], "sl_pct": [0.02], "tp_pct": [0.04],
                   "mode": [0]}

    def signals(self, data, params):
        close = data["close"]
"""
SMA_BODY = """
        fast = ind.sma(close, params["fast"])
        slow = ind.sma(close, params["slow"])
        return ind.cross_above(fast, slow), ind.cross_below(fast, slow)
"""
SMA_CROSS = HEAD + SMA_BODY
# mode 1 loops forever, mode 2 reserves 1.5 GiB (> memory_mb, fine without RLIMIT_AS),
# mode 3 imports os, otherwise SMA cross.
MODAL = (
    HEAD
    + """
        if params["mode"] == 1:
            while True:
                pass
        if params["mode"] == 2:
            x = np.empty(3 * 2**30 // 16)  # 1.5 GiB of address space, never touched
        if params["mode"] == 3:
            import os
"""
    + SMA_BODY
)


def _walk(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    return {
        "open": open_,
        "high": np.maximum(open_, close) * 1.002,
        "low": np.minimum(open_, close) * 0.998,
        "close": close,
        "volume": np.full(n, 5.0),
    }


def _expected_sma(close: np.ndarray, fast: int, slow: int):
    f, s = ind.sma(close, fast), ind.sma(close, slow)
    return ind.cross_above(f, s), ind.cross_below(f, s)


@pytest.fixture(scope="module")
def sandbox():
    with StrategySandbox(SandboxLimits(wall_s=2.0, memory_mb=1024), keep_spare=True) as sb:
        yield sb


def test_load_reports_declared_spec(sandbox):
    spec = sandbox.load(SMA_CROSS)
    assert spec.class_name == "Strategy_MOM_abcd1234"
    assert spec.strategy_type == "MOM" and spec.direction == "long"
    assert spec.timeframes == ("1h", "4h")
    assert spec.param_space["fast"] == [5, 10]
    assert len(spec.grid()) == 4


def test_signals_match_in_process_computation_and_one_worker_serves_many_calls(sandbox):
    spec = sandbox.load(SMA_CROSS)
    starts = sandbox.starts
    for seed in range(3):  # new data every call: the worker cache must not serve stale data
        data = _walk(800, seed)
        entries, exits = sandbox.signals(data, spec.grid())
        assert entries.shape == exits.shape == (4, 800) and entries.dtype == np.bool_
        for k, params in enumerate(spec.grid()):
            want_e, want_x = _expected_sma(data["close"], params["fast"], params["slow"])
            np.testing.assert_array_equal(entries[k], want_e)
            np.testing.assert_array_equal(exits[k], want_x)
    again, _ = sandbox.signals(data, spec.grid())  # cached data path
    np.testing.assert_array_equal(again, entries)
    assert sandbox.starts == starts


def test_timeout_kills_the_call_and_the_next_call_recovers_transparently(sandbox):
    sandbox.load(MODAL)
    data = _walk(300)
    params = {"fast": 5, "slow": 30, "sl_pct": 0.02, "tp_pct": 0.04, "mode": 1}
    t0 = time.monotonic()
    old_pid, starts = sandbox.worker_pid, sandbox.starts
    with pytest.raises(StrategyRejected) as info:
        sandbox.signals(data, [params])
    assert info.value.reason == "sandbox:timeout"
    assert old_pid is not None
    assert time.monotonic() - t0 < sandbox.limits.wall_s + 2.0
    entries, _ = sandbox.signals(data, [dict(params, mode=0)])  # same strategy, next call
    np.testing.assert_array_equal(entries[0], _expected_sma(data["close"], 5, 30)[0])
    # only the call's process was killed: the zygote (which never runs strategy code) stays
    assert sandbox.worker_pid == old_pid and sandbox.starts == starts


def test_memory_bomb_is_stopped_by_the_address_space_limit(sandbox):
    assert sandbox.limits.memory_mb == 1024
    sandbox.load(MODAL)
    data = _walk(300)
    params = {"fast": 5, "slow": 30, "sl_pct": 0.02, "tp_pct": 0.04, "mode": 2}
    with pytest.raises(StrategyRejected) as info:
        sandbox.signals(data, [params])
    assert info.value.reason == "sandbox:memory"
    entries, _ = sandbox.signals(data, [dict(params, mode=0)])
    assert entries.shape == (1, 300)


def test_forbidden_import_at_run_time_is_an_execution_error_with_line(sandbox):
    sandbox.load(MODAL)
    params = {"fast": 5, "slow": 30, "sl_pct": 0.02, "tp_pct": 0.04, "mode": 3}
    with pytest.raises(StrategyRejected) as info:
        sandbox.signals(_walk(200), [params])
    assert info.value.reason == "execution:error"
    assert "ImportError" in info.value.detail and "'os'" in info.value.detail
    line = next(i for i, t in enumerate(MODAL.splitlines(), 1) if "import os" in t)
    assert f"(line {line})" in info.value.detail


@pytest.mark.parametrize(
    ("body", "reason", "needle"),
    [
        ("        open('/etc/passwd')\n", "execution:error", "NameError"),
        ("        eval('1')\n", "execution:error", "NameError"),
        ("        close[0] = 1.0\n", "execution:error", "read-only"),
        ("        return close > 1, close < 0, 1\n", "execution:bad_output", "(entries, exits)"),
        ("        return close, close\n", "execution:bad_output", "dtype float64"),
        ("        return close[:-1] > 0, close[:-1] < 0\n", "execution:bad_output", "shape"),
        ("        print('noise on stdout')\n        return close > 0, close < 0\n", None, ""),
    ],
)
def test_strategy_errors_come_back_as_rejections(sandbox, body, reason, needle):
    sandbox.load(HEAD + body)
    params = {"fast": 5, "slow": 30, "sl_pct": 0.02, "tp_pct": 0.04, "mode": 0}
    if reason is None:  # print must not corrupt the protocol
        entries, exits = sandbox.signals(_walk(50), [params])
        assert entries.all() and not exits.any()
        return
    with pytest.raises(StrategyRejected) as info:
        sandbox.signals(_walk(50), [params])
    assert info.value.reason == reason
    assert needle in info.value.detail


def test_contract_violations_at_load(sandbox):
    with pytest.raises(StrategyRejected) as info:
        sandbox.load(SMA_CROSS.replace('"sl_pct": [0.02], ', ""))
    assert info.value.reason == "contract:invalid_spec" and "sl_pct" in info.value.detail
    with pytest.raises(StrategyRejected, match="contract:source"):
        sandbox.load("#" * 300_000)
    with pytest.raises(StrategyRejected) as info:
        sandbox.load("x = 1\n")
    assert info.value.reason == "contract:strategy_class"
    with pytest.raises(StrategyRejected) as info:
        sandbox.load("class Strategy_X:\n    def signals(self:\n")
    assert info.value.reason == "execution:error" and "SyntaxError" in info.value.detail


ESCAPE = (
    HEAD
    + """
        os = pd.io.common.os            # the in-process filter is not the boundary ...
        secret = "SIXBTC_TEST_SECRET" in os.environ
        names = [name for _, name in pd.compat.sys.modules["socket"].if_nameindex()]
        only_lo = names == ["lo"]
        n = len(close)
        if params["mode"] == 4:
            with open_file(os, "big.bin") as fh:
                fh.write(b"x" * (3 * 1024 * 1024))
        if params["mode"] == 5:
            os.abort()
        if params["mode"] == 6:
            with open_file(os, params["path"]) as fh:
                fh.write(b"planted")
        return np.full(n, secret), np.full(n, only_lo)

def open_file(os, name):
    return os.fdopen(os.open(name, os.O_WRONLY | os.O_CREAT), "wb")
"""
)


def test_host_files_cannot_be_written(sandbox):
    sandbox.load(ESCAPE)
    folder = tempfile.mkdtemp(prefix="sixbtc-host-")  # world-writable: only isolation stops it
    os.chmod(folder, 0o777)  # noqa: S103
    target = pathlib.Path(folder) / "planted.txt"
    params = {"fast": 5, "slow": 30, "sl_pct": 0.02, "tp_pct": 0.04, "mode": 6}
    try:
        with pytest.raises(StrategyRejected, match="No such file or directory|Read-only"):
            sandbox.signals(_walk(20), [dict(params, path=str(target))])
        with pytest.raises(StrategyRejected, match="Read-only file system"):  # the minimal root
            sandbox.signals(_walk(20), [dict(params, path="/planted.txt")])
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)
        os.rmdir(folder)


def test_process_limits_hold_even_when_strategy_code_reaches_os(sandbox, monkeypatch):
    monkeypatch.setenv("SIXBTC_TEST_SECRET", "hunter2")
    sandbox.close()  # next worker starts with the secret in the parent's environment
    sandbox.load(ESCAPE)
    params = {"fast": 5, "slow": 30, "sl_pct": 0.02, "tp_pct": 0.04, "mode": 0}
    secret, only_lo = sandbox.signals(_walk(20), [params])
    assert not secret.any(), "the worker environment must not contain the parent's secrets"
    assert only_lo.all() and sandbox.network_isolated
    with pytest.raises(StrategyRejected) as info:  # read-only minimal root
        sandbox.signals(_walk(20), [dict(params, mode=4)])
    assert info.value.reason == "execution:error" and "Read-only file system" in info.value.detail
    with pytest.raises(StrategyRejected) as info:
        sandbox.signals(_walk(20), [dict(params, mode=5)])
    assert info.value.reason == "sandbox:crashed" and "SIGABRT" in info.value.detail


def test_bad_inputs_raise_named_errors(sandbox):
    with StrategySandbox() as fresh, pytest.raises(ValueError, match="no strategy loaded"):
        fresh.signals(_walk(10), [{}])
    sandbox.load(SMA_CROSS)
    good = {"fast": 5, "slow": 30, "sl_pct": 0.02, "tp_pct": 0.04, "mode": 0}
    data = _walk(10)
    with pytest.raises(DataError, match="'volume'"):
        sandbox.signals({k: v for k, v in data.items() if k != "volume"}, [good])
    with pytest.raises(DataError, match="differ in length"):
        sandbox.signals(dict(data, close=data["close"][:-1]), [good])
    with pytest.raises(DataError, match="shape"):
        sandbox.signals(dict(data, close=data["close"].reshape(2, 5)), [good])
    with pytest.raises(ValueError, match="params_list"):
        sandbox.signals(data, [])
    with pytest.raises(ValueError, match="JSON"):
        sandbox.signals(data, [dict(good, fast=object())])
    numpy_params = dict(good, fast=np.int64(5), slow=np.int32(30))  # numpy scalars are fine
    np.testing.assert_array_equal(
        sandbox.signals(data, [numpy_params])[0], sandbox.signals(data, [good])[0]
    )
    with pytest.raises(ConfigError, match="memory_mb"):
        StrategySandbox(SandboxLimits(memory_mb=0))
    with pytest.raises(ConfigError, match="cpu_s must be a positive int"):
        StrategySandbox(SandboxLimits(cpu_s=1.5))


def test_cpu_limit_kills_a_busy_worker_before_the_wall_clock_limit():
    with StrategySandbox(SandboxLimits(wall_s=30.0, cpu_s=1)) as sb:
        sb.load(MODAL)
        params = {"fast": 5, "slow": 30, "sl_pct": 0.02, "tp_pct": 0.04, "mode": 1}
        t0 = time.monotonic()
        with pytest.raises(StrategyRejected) as info:
            sb.signals(_walk(100), [params])
        assert info.value.reason == "sandbox:timeout" and "CPU limit" in info.value.detail
        assert time.monotonic() - t0 < 10.0


PATCHER = (
    HEAD
    + """
        ind.sma = lambda x, n: x * 0.0 + 1.0          # tries to poison later strategies
        sys_mod = pd.compat.sys
        numba_loaded = "numba" in sys_mod.modules
        return np.full(len(close), numba_loaded), np.zeros(len(close), dtype=bool)
"""
)


def test_a_patched_module_does_not_reach_the_next_strategy_and_numba_is_never_imported():
    with StrategySandbox() as sb:
        sb.load(PATCHER)
        params = {"fast": 5, "slow": 30, "sl_pct": 0.02, "tp_pct": 0.04, "mode": 0}
        numba_loaded, _ = sb.signals(_walk(50), [params])
        assert not numba_loaded.any()
        sb.load(SMA_CROSS)  # same zygote: the patch died with the call that made it
        data = _walk(400)
        entries, _ = sb.signals(data, [params])
        np.testing.assert_array_equal(entries[0], _expected_sma(data["close"], 5, 30)[0])
        assert sb.starts == 1


def test_worker_that_cannot_start_raises_config_error():
    with (
        StrategySandbox(SandboxLimits(memory_mb=40)) as sb,
        pytest.raises(ConfigError, match="memory_mb=40"),
    ):
        sb.load(SMA_CROSS)


FORGER = (
    HEAD
    + """
        os = pd.io.common.os
        buf = pd.io.common.BytesIO()
        np.lib.format.write_array(buf, np.zeros((7, 3), dtype=np.uint8))
        blob = buf.getvalue()
        if params["mode"] == 7:   # a well-framed reply with arrays of the wrong shape
            head = ('{"ok":true,"cpu_s":0,"arrays":[{"name":"entries","nbytes":%d},'
                    '{"name":"exits","nbytes":%d}]}' % (len(blob), len(blob))).encode()
            message = len(head).to_bytes(4, "big") + head + blob + blob
        else:                     # a header claiming 2 GB
            message = b"\\x7f\\xff\\xff\\xff"
        for fd in range(3, 12):
            try:
                os.write(fd, message)
            except Exception:
                pass
        return close > 0, close < 0
"""
)


@pytest.mark.parametrize("mode", [7, 8])
def test_forged_replies_from_a_compromised_worker_are_rejected(sandbox, mode):
    sandbox.load(FORGER)
    params = {"fast": 5, "slow": 30, "sl_pct": 0.02, "tp_pct": 0.04, "mode": mode}
    with pytest.raises(StrategyRejected) as info:
        sandbox.signals(_walk(40), [params])
    assert info.value.reason == "sandbox:crashed"
    assert "mis-shaped" in info.value.detail or "exceeds" in info.value.detail
    sandbox.load(SMA_CROSS)  # the same zygote serves the next strategy correctly
    data = _walk(400)
    entries, _ = sandbox.signals(data, [dict(params, mode=0)])
    np.testing.assert_array_equal(entries[0], _expected_sma(data["close"], 5, 30)[0])


def test_without_fresh_worker_per_load_one_worker_serves_several_strategies():
    with StrategySandbox(fresh_worker_per_load=False) as sb:
        sb.load(MODAL)
        params = {"fast": 10, "slow": 60, "sl_pct": 0.02, "tp_pct": 0.04, "mode": 0}
        sb.signals(_walk(100), [params])
        pid = sb.worker_pid
        sb.load(SMA_CROSS)
        data = _walk(500, seed=9)
        entries, exits = sb.signals(data, [params])
        want = _expected_sma(data["close"], 10, 60)
        np.testing.assert_array_equal(entries[0], want[0])
        np.testing.assert_array_equal(exits[0], want[1])
        assert sb.worker_pid == pid and sb.starts == 1


LEAN = """
import numpy as np
from sixbtc.strategy import indicators as ind

class Strategy_MOM_1ea40001:
    strategy_type = "MOM"
    direction = "long"
    timeframes = ("1h",)
    param_space = {"late": [0, 1], "sl_pct": [0.02], "tp_pct": [0.04]}

    def signals(self, data, params):
        close = data["close"]
        if params["late"]:   # source without the word: the lean zygote imports it in the call
            frames = __import__("pan" + "das")
            close = frames.Series(close).rolling(3).mean().to_numpy()
        sma = ind.sma(np.nan_to_num(close), 5)
        return ind.cross_above(close, sma), ind.cross_below(close, sma)
"""


def test_a_strategy_without_pandas_runs_in_a_lean_zygote_that_can_still_import_it():
    with StrategySandbox(SandboxLimits(wall_s=10.0)) as sb:
        sb.load(LEAN)
        data = _walk(300)
        entries, _ = sb.signals(data, [{"late": 0, "sl_pct": 0.02, "tp_pct": 0.04}])
        sma = ind.sma(data["close"], 5)
        np.testing.assert_array_equal(entries[0], ind.cross_above(data["close"], sma))
        late, _ = sb.signals(data, [{"late": 1, "sl_pct": 0.02, "tp_pct": 0.04}])
        assert late.shape == (1, 300)
        sb.load(SMA_CROSS)  # mentions pandas: a second zygote that preloads it
        assert sb.starts == 2
