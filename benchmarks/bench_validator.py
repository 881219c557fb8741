"""Benchmark: sandbox overhead per strategy and validator throughput on 2 cores.

Run: ``.venv/bin/python benchmarks/bench_validator.py [--strategies 60] [--procs 2]
[--no-extras]``. Prints figures; asserts nothing. Uses the last 2,000 BTC 1h candles of
``../shared/data/binance_usdm`` when present, else the synthetic sample, and the factory's
extra samples (:func:`sixbtc.validator.samples.extra_samples`: real ones from the same
folder, long one as long as a default 15m backtest, then the synthetic ones);
``--no-extras`` validates on the primary sample only (the validator before issue 8).

* sandbox start: spawn + imports + namespaces/minimal root (zygote) until the first load
  returns (s);
* per call: sandbox ``signals`` minus the same computation in-process (ms), 2,000 bars,
  3 parameter sets. Every call runs in a fresh process forked from the zygote and gets the
  OHLCV data with its request (issue 8); versions before the zygote served all calls of a
  strategy from one worker with the data cached in it, and booted one worker per strategy;
* per call, CPU: CPU seconds of the whole sandbox process tree (zygote, its children) and
  of this process, per call (``/proc``; what limits throughput on a busy machine);
* per strategy: signal calls one validation makes, and the sandbox share of its time;
* throughput: ``--procs`` processes, each with its own sandbox, validating
  ``--strategies`` strategies from :func:`sixbtc.generator.generate`.

The figures depend heavily on the load of the machine (``os.getloadavg()`` is printed).
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing as mp
import os
import resource
import statistics
import time
from pathlib import Path

import numpy as np

from sixbtc.generator.factory import generate
from sixbtc.strategy.sandbox import StrategySandbox
from sixbtc.validator import spread_param_sets, validate
from sixbtc.validator.sample import NamedSample, synthetic_sample
from sixbtc.validator.samples import extra_samples

DATA = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "binance_usdm"
    / "BTC_1h.parquet"
)
CLEAN = (
    Path(__file__).resolve().parents[1] / "tests/unit/validator/corpus/clean/sma_cross.py"
).read_text()


class ParquetDir:
    """Read-only CandleReader over ``{SYMBOL}_{TF}.parquet`` files."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def symbols(self, timeframe):
        return sorted(p.name[: -len(f"_{timeframe}.parquet")] for p in self.root.glob(f"*_{timeframe}.parquet"))

    def read_candles(self, symbol, timeframe, start=None, end=None):
        import pandas as pd

        return pd.read_parquet(self.root / f"{symbol}_{timeframe}.parquet")


def load_sample() -> tuple[dict[str, np.ndarray], str]:
    if DATA.exists():
        import pandas as pd

        df = pd.read_parquet(DATA).tail(2000)
        return {
            k: df[k].to_numpy(np.float64) for k in ("open", "high", "low", "close", "volume")
        }, "BTC 1h"
    return synthetic_sample(2000), "synthetic"


def load_extras() -> list[NamedSample]:
    reader = ParquetDir(DATA.parent) if DATA.exists() else None
    return extra_samples(reader, end=None, long_timeframe="15m", long_bars=17_530)


EXTRAS: list[NamedSample] = []  # set in main (and in each pool worker from its arguments)


class Counting:
    """Wraps a sandbox; counts signal calls and the time spent in them."""

    def __init__(self, sandbox: StrategySandbox) -> None:
        self.sb, self.calls, self.seconds = sandbox, 0, 0.0

    def load(self, code):
        return self.sb.load(code)

    def signals(self, data, params_list):
        t0 = time.perf_counter()
        try:
            return self.sb.signals(data, params_list)
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - t0


class InProcess:
    """Runs (trusted, generated) strategy code in this process: the no-sandbox baseline."""

    def load(self, code):
        from sixbtc.strategy.contract import StrategySpec

        namespace: dict = {"__name__": "strategy"}
        exec(compile(code, "<strategy>", "exec"), namespace)  # noqa: S102 - benchmark baseline
        name, cls = next((k, v) for k, v in namespace.items() if k.startswith("Strategy_"))
        self.cls = cls
        attrs = ("strategy_type", "direction", "timeframes", "param_space", "inputs")
        declared = {a: getattr(cls, a, None) for a in attrs}  # inputs: the extra data it reads
        declared["timeframes"] = list(declared["timeframes"])
        if declared["inputs"] is not None:
            declared["inputs"] = list(declared["inputs"])
        return StrategySpec.from_declared(name, declared)

    def signals(self, data, params_list):
        inst = self.cls()
        pairs = [
            inst.signals({k: np.asarray(v) for k, v in data.items()}, dict(p)) for p in params_list
        ]
        return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def bench_per_strategy(sample, n: int = 20) -> None:
    codes = [c.code for c in generate(n, np.random.default_rng(7)).candidates]
    base, boxed, calls = [], [], []
    with StrategySandbox(keep_spare=True) as sb:
        for code in codes:
            t0 = time.perf_counter()
            validate(code, InProcess(), sample, allowed_warmup=250, extra_samples=EXTRAS)
            base.append(time.perf_counter() - t0)
            counting = Counting(sb)
            t0 = time.perf_counter()
            validate(code, counting, sample, allowed_warmup=250, extra_samples=EXTRAS)
            boxed.append(time.perf_counter() - t0)
            calls.append(counting.calls)
    extra = [b - a for a, b in zip(base, boxed, strict=True)]
    print(
        f"per strategy ({n} generated, 1 process, spare worker kept): validation "
        f"{statistics.median(boxed):.3f} s in the sandbox vs {statistics.median(base):.3f} s "
        f"in-process -> sandbox overhead median {statistics.median(extra) * 1e3:.0f} ms "
        f"(mean {statistics.mean(extra) * 1e3:.0f} ms) for a median of "
        f"{statistics.median(calls):.0f} signal calls"
    )


def bench_overhead(sample) -> None:
    starts = []
    for _ in range(5):
        with StrategySandbox() as sb:
            t0 = time.perf_counter()
            sb.load(CLEAN)
            starts.append(time.perf_counter() - t0)
    print(
        f"sandbox start (spawn to first load): median {statistics.median(starts):.3f} s "
        f"(min {min(starts):.3f}, max {max(starts):.3f})"
    )
    from sixbtc.strategy import indicators as ind

    with StrategySandbox() as sb:
        spec = sb.load(CLEAN)
        params = spread_param_sets(spec, 3)
        sb.signals(sample, params)
        t0 = time.perf_counter()
        for _ in range(50):
            sb.signals(sample, params)
        in_sandbox = (time.perf_counter() - t0) / 50
        close = sample["close"]
        t0 = time.perf_counter()
        for _ in range(50):
            for p in params:
                f, s = ind.sma(close, p["fast"]), ind.sma(close, p["slow"])
                ind.cross_above(f, s), ind.cross_below(f, s)
        in_process = (time.perf_counter() - t0) / 50
        fresh = {k: v * 1.0001 for k, v in sample.items()}
        t0 = time.perf_counter()
        sb.signals(fresh, params)
        with_data = time.perf_counter() - t0
    print(
        f"signals call, 2,000 bars x 3 params: sandbox {in_sandbox * 1e3:.2f} ms, in-process "
        f"{in_process * 1e3:.2f} ms -> overhead {(in_sandbox - in_process) * 1e3:.2f} ms per call; "
        f"with new data sent {with_data * 1e3:.2f} ms"
    )
    with StrategySandbox(keep_spare=True) as sb:
        counting = Counting(sb)
        t0 = time.perf_counter()
        report = validate(CLEAN, counting, sample, allowed_warmup=250, extra_samples=EXTRAS)
        total = time.perf_counter() - t0
    print(
        f"one validation (SMA cross, passed={report.passed}): {total:.2f} s wall, "
        f"{counting.calls} signal calls taking {counting.seconds:.2f} s, "
        f"sandbox overhead ~{(in_sandbox - in_process) * counting.calls * 1e3:.0f} ms of calls "
        f"+ one worker start"
    )


def _worker(args):
    codes, sample, extras = args
    out = []
    with StrategySandbox(keep_spare=True) as sb:
        for code in codes:
            t0 = time.perf_counter()
            r = validate(code, sb, sample, allowed_warmup=250, extra_samples=extras)
            out.append((r.passed, r.reason, r.warmup_bars, time.perf_counter() - t0))
    return out


def _tree_cpu_s(root: int) -> float:
    """utime + stime (+ reaped children's) of ``root`` and its direct children (s)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = open(f"/proc/{name}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
        except OSError:
            continue
        if int(name) == root or int(fields[1]) == root:
            total += sum(int(v) for v in fields[11:15]) / tick
    return total


def bench_call_cpu(sample, calls: int = 300) -> None:
    with StrategySandbox() as sb:
        spec = sb.load(CLEAN)
        params = spread_param_sets(spec, 3)
        sb.signals(sample, params)
        mine = resource.getrusage(resource.RUSAGE_SELF)
        tree = _tree_cpu_s(sb.worker_pid)
        for _ in range(calls):
            sb.signals(sample, params)
        time.sleep(0.3)  # let the last call's process be reaped
        tree = _tree_cpu_s(sb.worker_pid) - tree
        after = resource.getrusage(resource.RUSAGE_SELF)
    own = after.ru_utime + after.ru_stime - mine.ru_utime - mine.ru_stime
    print(
        f"CPU per call ({calls} calls): sandbox processes {tree / calls * 1e3:.2f} ms + this "
        f"process {own / calls * 1e3:.2f} ms (a worker's boot is not included)"
    )


def bench_throughput(sample, n: int, procs: int) -> None:
    cands = generate(n, np.random.default_rng(2024)).candidates
    codes = [c.code for c in cands]
    chunks = [codes[i::procs] for i in range(procs)]
    t0 = time.perf_counter()
    with mp.get_context("spawn").Pool(procs) as pool:
        results = [r for chunk in pool.map(_worker, [(c, sample, EXTRAS) for c in chunks]) for r in chunk]
    wall = time.perf_counter() - t0
    reasons = collections.Counter(r[1] or "passed" for r in results)
    warm = [r[2] for r in results if r[2] is not None]
    per = [r[3] for r in results]
    print(
        f"throughput: {len(codes)} generated strategies, {procs} processes: {wall:.1f} s wall "
        f"-> {len(codes) / wall * 60:.0f} strategies/minute "
        f"(per strategy median {statistics.median(per):.2f} s, max {max(per):.2f} s)"
    )
    print(f"verdicts: {dict(reasons.most_common())}")
    if warm:
        print(f"warm-up needed (bars): median {statistics.median(warm):.0f}, max {max(warm)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strategies", type=int, default=60)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--no-extras", action="store_true", help="primary sample only (before issue 8)")
    args = ap.parse_args()
    sample, source = load_sample()
    EXTRAS[:] = [] if args.no_extras else load_extras()
    print(f"sample: {source}, {len(sample['close'])} bars; extras: {[e.name for e in EXTRAS] or 'none'}; "
          f"load average {os.getloadavg()}")
    bench_overhead(sample)
    bench_call_cpu(sample)
    bench_per_strategy(sample)
    bench_throughput(sample, args.strategies, args.procs)


if __name__ == "__main__":
    main()
