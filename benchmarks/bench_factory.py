"""Benchmark: does the factory find edges that hold on days no choice has seen? (issue 9, "Measure it")

Run::

    .venv/bin/python benchmarks/bench_factory.py --generate 300 --holdout-days 90 [--seed S]
        [--home DIR] [--set section.key=value ...] [--data DIR]

What it does (prints figures, asserts nothing):

1. **Hide the last days.** ``end`` = close of the newest candle of ``backtest.timeframes`` in
   ``--data`` (default ``../shared/data/binance_usdm``), ``cut = end - holdout-days``. Copies
   of the candle files (those timeframes) holding only candles closed by ``cut``, and of the
   funding files holding only settlements before ``cut``, are imported through the product's
   importer (:func:`sixbtc.data.importer.import_path`, what ``sixbtc data import`` runs, plus the
   ``coins`` registry) into a scratch home (a temporary folder removed at the end, or ``--home
   DIR``, kept, which must be new or empty). The script checks that the home's store holds
   nothing at or after ``cut``. Generator, validator (its samples), backtester, scorer, pool,
   rotator, paper replay and monitor therefore see nothing of ``[cut, end)``.
2. **Run the factory**: :func:`sixbtc.app.once.run_once` on that home, the code path of
   ``sixbtc run --once --generate N --seed S`` (without its progress bars), default
   configuration. Three throttles are raised to N so that N strategies are generated and
   all of them validated and backtested in the one cycle (``generator.daily_limit`` 300 and
   ``generator.max_generated_queue`` 500 would cap generation, ``validator.max_validated_queue``
   50 stops the validate stage once 50 wait for the backtest, leaving the rest GENERATED;
   none takes part in any choice). ``--set section.key=value`` (YAML value,
   repeatable) changes the home's ``config.yaml`` **for diagnostics only**: the run is then
   labelled DIAGNOSTIC everywhere and its figures are not the benchmark's headline.
3. **Judge the gate passers on the hidden days.** Passers = every strategy that entered the
   pool in the run (a pool-entry event to ACTIVE; usually ACTIVE or LIVE afterwards, also
   counted when the replay's monitor retired it). Each is loaded from its stored code in a
   :class:`~sixbtc.strategy.sandbox.StrategySandbox`; its signals are computed there on
   ``backtest.warmup_bars`` bars + the hidden days, with its stored parameters (stop and
   target included) on its assigned timeframe, and traded by the project's engine
   (:func:`sixbtc.backtester.twins.evaluate_window`: fees, slippage, funding, all-in 1x
   per coin, equal capital per coin). The candles of the hidden days come from a second
   store (the uncut files, imported through the same importer into a folder outside the
   home, read only here).

   **Coins (headline): every coin its first backtest ran on** — the coins of its timeframe
   that the window planner gave the backtester (:func:`sixbtc.app.window.symbols_by_timeframe`
   on the cut home), those of them that cover the hidden days. The pool's choice is the rule,
   judged on all those coins; the strategy's ``symbols`` (the up to 5 coins the paper executor
   trades, chosen by their out-of-sample return) are a selection of their own and are shown
   in the ``assigned`` columns.

   **Twins**: 200 time shifts are drawn once per run (seeded by ``--seed``), uniformly without
   replacement among the multiples of ``unit`` = the least common multiple of the backtest
   timeframes (4h by default) that lie at least 3 days from 0 circularly inside the hidden
   span (:func:`~sixbtc.backtester.twins.draw_shifts`). Every passer's twin ``t`` trades its
   own entry and exit signals rotated by shift ``t`` inside the hidden days, the same shift
   on every coin (:mod:`sixbtc.backtester.twins`). Its percentile = share of its twins with a
   lower hidden-days return (ties count half).

   **Portfolio**: equal capital per passer (no rebalancing); twin portfolio ``t`` holds twin
   ``t`` of every passer — the same time offset for the whole pool, so the members'
   co-movement (e.g. all short in a falling market) is kept. Its percentile among the 200
   twin portfolios is the pool's.

   **For comparison** (``oos_ret``, ``oos_pct``): the same figures on the factory's own
   out-of-sample window (``[oos_start, replay_start)`` of the home, the window whose metrics
   chose the passer), same coins, 200 shifts drawn for that span. Its return equals the
   stored OOS ``total_return`` of the backtest (same engine path); a high OOS percentile next
   to a middling hidden-days one is the selection, not an edge.

   Caveat: with a 4h unit, a 15m or 1h strategy's twins keep its bars' phase within 4 hours
   (a shift is a multiple of 4h), so an edge tied to the hour of day modulo 4h would be shared
   by its twins and not show in its percentile.
4. **Throughput**: strategies per hour through validate + backtest = ``validated * 3600 /
   (validate_s + backtest_s)`` from the cycle's stage timings, on this machine, where
   ``validated`` is the count the validate stage processed (equal to ``generated`` unless a
   stage ended early); the load average is printed next to it.

Last line (always)::

    factory: generated=N passers=P per_1000=R median_pctile=X portfolio_pctile=Y per_hour=H

(``nan`` where there are no passers).
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.app.market import sync_coins
from sixbtc.app.once import CycleReport, StageProgress, run_once
from sixbtc.app.window import CycleWindow, symbols_by_timeframe
from sixbtc.backtester.coinset import load_series
from sixbtc.backtester.twins import (
    MIN_SHIFT_DAYS,
    N_TWINS,
    WindowResult,
    draw_shifts,
    evaluate_window,
    portfolio_twins,
    shifts_in_bars,
)
from sixbtc.config import Settings
from sixbtc.core.errors import ConfigError, SixbtcError
from sixbtc.data.importer import FUNDING, import_path, summarise
from sixbtc.domain.strategy import StrategyRecord
from sixbtc.domain.timeframe import Timeframe
from sixbtc.strategy.sandbox import StrategySandbox

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance_usdm"
DAY = pd.Timedelta(days=1)
THROTTLES = (("generator", "daily_limit"), ("generator", "max_generated_queue"), ("validator", "max_validated_queue"))


class BenchError(Exception):
    """A usage or setup problem: printed as one line, exit 2."""


# -- arguments and configuration ---------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--generate", type=int, default=60, help="strategies to generate (default 60)")
    p.add_argument("--holdout-days", type=int, default=90, help="days hidden from the factory (default 90)")
    p.add_argument("--seed", type=int, default=None, help="generator and twin seed (default: drawn and printed)")
    p.add_argument("--home", type=Path, default=None, help="keep the scratch home here (new or empty folder)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="DIAGNOSTIC configuration override (YAML value); never the headline figure")
    p.add_argument("--data", type=Path, default=DATA, help=f"Binance USD-M data folder (default {DATA})")
    args = p.parse_args(argv)
    if args.generate < 1 or args.holdout_days < 1:
        raise BenchError(f"--generate and --holdout-days must be >= 1, got {args.generate}, {args.holdout_days}")
    if args.seed is not None and args.seed < 0:
        raise BenchError(f"--seed must be >= 0, got {args.seed}")
    return args


def parse_sets(items: list[str]) -> dict[str, dict[str, Any]]:
    """``["scoring.multiple_testing_gate=false"]`` -> ``{"scoring": {"multiple_testing_gate": False}}``."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not (eq and dot and section and name) or "." in name:
            raise BenchError(f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. scoring.multiple_testing_gate=false")
        out.setdefault(section, {})[name] = yaml.safe_load(raw)
    return out


def home_config(overrides: dict[str, dict[str, Any]], n_generate: int) -> dict[str, dict[str, Any]]:
    """``config.yaml`` of the scratch home: the throttles raised to N, then the overrides."""
    defaults = Settings()
    cfg: dict[str, dict[str, Any]] = {}
    for section, key in THROTTLES:
        cfg.setdefault(section, {})[key] = max(getattr(getattr(defaults, section), key), n_generate)
    for section, values in overrides.items():
        cfg.setdefault(section, {}).update(values)
    return cfg


# -- data: the cut home store and the full (hidden-days) store ----------------------------------

def candle_files(folder: Path, timeframes: list[str]) -> list[tuple[Path, str]]:
    """``(file, timeframe)`` of the ``{SYMBOL}_{TF}.parquet`` candle files of ``timeframes``."""
    out = []
    for path in sorted(folder.glob("*.parquet")):
        tf = path.stem.rpartition("_")[2]
        if tf in timeframes:
            out.append((path, tf))
    return out


def data_end(folder: Path, timeframes: list[str]) -> pd.Timestamp:
    """Close time of the newest candle of ``timeframes`` in ``folder``.

    Raises
    ------
    BenchError
        If the folder holds no candle file of those timeframes.
    """
    ends = [pd.read_parquet(f, columns=["timestamp"])["timestamp"].max() + pd.Timedelta(milliseconds=Timeframe.parse(tf).ms)
            for f, tf in candle_files(folder, timeframes)]
    if not ends:
        raise BenchError(f"{folder}: no {{SYMBOL}}_{{TF}}.parquet candle file of {', '.join(timeframes)}")
    return max(ends)


def write_cut(src: Path, dst: Path, timeframes: list[str], cut: pd.Timestamp) -> int:
    """Copies of the candle files (candles closed by ``cut``) and funding files (settled before it)."""
    dst.mkdir(parents=True, exist_ok=True)
    files = [(f, tf) for f, tf in candle_files(src, timeframes)] + [(f, FUNDING) for f in sorted(src.glob("*_funding.parquet"))]
    written = 0
    for f, tf in files:
        df = pd.read_parquet(f)
        ts = pd.to_datetime(df["timestamp"], utc=True)
        keep = ts < cut if tf == FUNDING else ts + pd.Timedelta(milliseconds=Timeframe.parse(tf).ms) <= cut
        if keep.any():
            df[keep.to_numpy()].to_parquet(dst / f.name, index=False)
            written += 1
    return written


def import_folder(folder: Path, store: ParquetCandleStore, timeframes: list[str]) -> str:
    """Import through the product's importer; raises BenchError when a file failed."""
    results = import_path(folder, store, timeframes={*timeframes, FUNDING})
    s = summarise(results)
    failed = [r.error for r in results if r.error]
    if failed or not s.imported:
        raise BenchError(f"import of {folder} failed: {failed[:3] or 'nothing imported'}")
    return f"{s.imported} files, {s.stored:,} rows stored, {s.rejected:,} rejected"


def check_hidden(store: ParquetCandleStore, cut: pd.Timestamp) -> pd.Timestamp:
    """Newest close in ``store``; raises BenchError if a candle closes or a rate settles after ``cut``."""
    closes = [e.last + pd.Timedelta(milliseconds=Timeframe.parse(e.timeframe).ms) for e in store.inventory()]
    late = [e for e, c in zip(store.inventory(), closes, strict=True) if c > cut]
    for sym in {e.symbol for e in store.inventory()}:
        fr = store.read_funding(sym)
        if len(fr) and pd.Timestamp(fr["timestamp"].max()) >= cut:
            late.append(f"{sym} funding")
    if late:
        raise BenchError(f"the scratch home's store holds data of the hidden days: {late[:5]}")
    return max(closes)


# -- the run -------------------------------------------------------------------------------------

class PrintProgress(StageProgress):
    """Stage start/finish lines on stderr (a long run shows where it is)."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def start(self, stage: str, total: int | None) -> None:
        print(f"[{time.perf_counter() - self.t0:7.1f} s] {stage} ({total if total is not None else '-'})",
              file=sys.stderr, flush=True)

    def finish(self, stage: str) -> None:
        print(f"[{time.perf_counter() - self.t0:7.1f} s] {stage} done", file=sys.stderr, flush=True)


def pool_entrants(c: Container) -> list[StrategyRecord]:
    """Every strategy that entered the pool (a pool event to ACTIVE), by id."""
    ids = sorted({e["strategy_id"] for e in c.strategies.events(limit=10**9)
                  if e["to_status"] == "ACTIVE" and e["from_status"] != "ACTIVE" and e["phase"] == "pool"})
    return [r for i in ids if (r := c.strategies.get(i)) is not None]


@dataclass
class Judged:
    """A passer's results: hidden days on its backtest's coins (headline) and on its assigned
    coins, and (for comparison) its backtest's own out-of-sample window on its backtest's coins."""

    rec: StrategyRecord
    coins: WindowResult | None = None
    assigned: WindowResult | None = None
    oos: WindowResult | None = None
    error: str | None = None


@dataclass(frozen=True)
class Hidden:
    """Where and how the passers are judged: the hidden days ``[start, end)`` in ``store``,
    the factory's OOS window ``oos`` in the home's store, twin shifts of each (in ``unit_ms``),
    and the coins of each timeframe's backtests."""

    store: ParquetCandleStore
    start: pd.Timestamp
    end: pd.Timestamp
    shift_units: np.ndarray
    unit_ms: int
    coins_by_tf: dict[str, list[str]]
    oos: tuple[pd.Timestamp, pd.Timestamp]
    oos_shift_units: np.ndarray


def trade_window(c: Container, sandbox: StrategySandbox, store: Any, rec: StrategyRecord, direction: int,
                 symbols: list[str], span: tuple[pd.Timestamp, pd.Timestamp], shifts: np.ndarray) -> WindowResult | None:
    """``rec`` (loaded in ``sandbox``) and its twins on ``symbols`` over ``span`` (None: no coin covers it)."""
    bt, tf = c.settings.backtest, rec.timeframe or ""
    series = [s for sym in symbols if (s := load_series(store, sandbox, sym, tf, (span[0], span[0], span[1]),
                                                         bt.warmup_bars, [dict(rec.params or {})], direction,
                                                         (bt.fee_rate, bt.slippage_bps))) is not None]
    return evaluate_window(series, 0, shifts) if series else None


def judge(c: Container, sandbox: StrategySandbox, hidden: Hidden, rec: StrategyRecord) -> Judged:
    """Load ``rec`` in the sandbox and trade it (and its twins) on the hidden days and on its OOS window."""
    try:
        spec = sandbox.load(rec.code)
        tf = rec.timeframe or ""
        tf_ms, d = Timeframe.parse(tf).ms, spec.direction.sign
        shifts = shifts_in_bars(hidden.shift_units, hidden.unit_ms, tf_ms)
        main = hidden.coins_by_tf.get(tf, [])
        out = Judged(rec)
        out.coins = trade_window(c, sandbox, hidden.store, rec, d, main, (hidden.start, hidden.end), shifts)
        out.assigned = trade_window(c, sandbox, hidden.store, rec, d, list(rec.symbols), (hidden.start, hidden.end), shifts)
        out.oos = trade_window(c, sandbox, c.store, rec, d, main, hidden.oos,
                               shifts_in_bars(hidden.oos_shift_units, hidden.unit_ms, tf_ms))
        if out.coins is None:
            out.error = f"no {tf} coin of its backtest covers the hidden days"
        return out
    except (SixbtcError, ValueError) as exc:
        return Judged(rec, error=f"{type(exc).__name__}: {exc}")


def twin_unit_ms(timeframes: list[str]) -> int:
    """Least common multiple of the timeframes' bar lengths (ms): a shift every grid holds."""
    return math.lcm(*(Timeframe.parse(tf).ms for tf in timeframes))


# -- printing ------------------------------------------------------------------------------------

def pct(x: float) -> str:
    return "nan" if not np.isfinite(x) else f"{100 * x:+.2f}%"


def fmt(x: float, spec: str = ".1f") -> str:
    return "nan" if x is None or not np.isfinite(x) else format(x, spec)


def print_cycle(report: CycleReport, c: Container) -> None:
    w = report.window
    print(f"windows (factory): IS {w.is_start:%Y-%m-%d %H:%M} -> OOS {w.oos_start:%Y-%m-%d %H:%M} -> replay "
          f"{w.replay_start:%Y-%m-%d %H:%M} -> {w.replay_end:%Y-%m-%d %H:%M} UTC")
    print("stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in report.seconds.items()))
    print("counts: " + ", ".join(f"{k}={v}" for k, v in report.counts.items()))
    for stage, err in report.errors.items():
        print(f"STAGE FAILED {stage}: {err}")
    print("status: " + ", ".join(f"{k}={v}" for k, v in c.strategies.counts_by_status().items() if v))
    rej = sorted(c.strategies.rejections_by_reason().items(), key=lambda kv: -kv[1])
    print("rejections: " + (", ".join(f"{k}={v}" for k, v in rej) or "none"))


def print_passers(judged: list[Judged]) -> None:
    head = (f"{'id':>5} {'name':<24} {'dir':<5} {'tf':>3} {'status':<7} {'score':>5} {'dsr':>5} {'pbo':>5} "
            f"{'coins':>5} {'trades':>6} {'twin_tr':>7} {'return':>8} {'twin_med':>8} {'pctile':>6} | "
            f"{'assigned':<22} {'return':>8} {'pctile':>6} | {'oos_ret':>8} {'oos_pct':>7}")
    print(head)
    for j in judged:
        r, m = j.rec, j.rec.metrics or {}
        lead = (f"{r.id:>5} {r.name:<24} {str(m.get('direction', '?')):<5} {r.timeframe or '?':>3} {r.status:<7} "
                f"{fmt(r.score if r.score is not None else float('nan')):>5} {fmt(m.get('dsr', float('nan')), '.2f'):>5} "
                f"{fmt(m.get('pbo', float('nan')), '.2f'):>5}")
        if j.coins is None:
            print(f"{lead} NOT JUDGED: {j.error}")
            continue
        w, a, o = j.coins, j.assigned, j.oos
        print(f"{lead} {len(w.symbols):>5} {w.n_trades:>6} {np.mean(w.twin_trades):>7.1f} {pct(w.total_return):>8} "
              f"{pct(float(np.median(w.twin_returns))):>8} {fmt(w.percentile):>6} | "
              f"{','.join(a.symbols) if a else '-':<22} {pct(a.total_return) if a else '-':>8} "
              f"{fmt(a.percentile) if a else '-':>6} | {pct(o.total_return) if o else '-':>8} "
              f"{fmt(o.percentile) if o else '-':>7}")


# -- main ----------------------------------------------------------------------------------------

def run(args: argparse.Namespace, root: Path, scratch: Path) -> str:
    """Everything after the argument check; returns the last line."""
    overrides = parse_sets(args.sets)
    diag = " ".join(args.sets)
    if diag:
        print(f"*** DIAGNOSTIC RUN: --set {diag} -- not the default configuration; not a headline figure ***")
    home = Home(root)
    home.ensure()
    home.config_path.write_text(yaml.safe_dump(home_config(overrides, args.generate), sort_keys=True))
    try:
        c = Container.open(home)
    except ConfigError as exc:
        raise BenchError(f"--set: {exc}") from None
    tfs = list(c.settings.backtest.timeframes)
    end = data_end(args.data, tfs)
    cut = end - args.holdout_days * DAY
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    print(f"data {args.data}: {', '.join(tfs)}; newest candle closes {end:%Y-%m-%d %H:%M} UTC")
    print(f"hidden days: [{cut:%Y-%m-%d %H:%M}, {end:%Y-%m-%d %H:%M}) UTC = {args.holdout_days} days; "
          f"seed {seed}{'' if args.seed is not None else ' (drawn: pass --seed to repeat)'}")
    print(f"home {root} (config: {home_config(overrides, args.generate)})")
    write_cut(args.data, scratch / "cut", tfs, cut)
    print(f"home store: {import_folder(scratch / 'cut', c.store, tfs)}; coins {sync_coins(c)}; "
          f"newest close {check_hidden(c.store, cut):%Y-%m-%d %H:%M} UTC (nothing at or after the cut)")
    full = ParquetCandleStore(scratch / "hidden_store")
    print(f"hidden-days store (outside the home, read by the judging only): {import_folder(args.data, full, tfs)}")
    t0 = time.perf_counter()
    report = run_once(c, args.generate, PrintProgress(), seed)
    print(f"cycle {time.perf_counter() - t0:.1f} s")
    print_cycle(report, c)
    return judge_and_report(c, report, hidden_plan(c, report.window, full, (cut, end), seed), seed, diag)


def hidden_plan(c: Container, window: CycleWindow, store: ParquetCandleStore,
                span: tuple[pd.Timestamp, pd.Timestamp], seed: int) -> Hidden:
    """The twins' shifts (in units of :func:`twin_unit_ms`) of the hidden days and of the
    factory's OOS window, and each timeframe's backtest coins."""
    unit_ms = twin_unit_ms(list(c.settings.backtest.timeframes))
    unit = pd.Timedelta(milliseconds=unit_ms)

    def shifts(a: pd.Timestamp, b: pd.Timestamp) -> np.ndarray:
        return draw_shifts(int((b - a) / unit), math.ceil(MIN_SHIFT_DAYS * DAY / unit), N_TWINS, seed)
    coins_by_tf = symbols_by_timeframe(c.store, c.settings, window, [r["symbol"] for r in c.coins.active()])
    oos = (window.oos_start, window.replay_start)
    return Hidden(store, span[0], span[1], shifts(*span), unit_ms, coins_by_tf, oos, shifts(*oos))


def judge_and_report(c: Container, report: CycleReport, hidden: Hidden, seed: int, diag: str) -> str:
    """Judge every pool entrant on the hidden days, print the figures; return the last line."""
    shifts = hidden.shift_units
    entrants = pool_entrants(c)
    print(f"twins: {len(shifts)} shifts of {fmt(shifts.min() * hidden.unit_ms / 3.6e6, '.0f')}.."
          f"{fmt(shifts.max() * hidden.unit_ms / 3.6e6, '.0f')} h (unit {hidden.unit_ms // 3_600_000} h, "
          f"at least {MIN_SHIFT_DAYS:g} days circularly, seed {seed})")
    with StrategySandbox(c.sandbox_limits()) as sandbox:
        judged = [judge(c, sandbox, hidden, rec) for rec in entrants]
    generated = report.counts.get("generated", 0)
    print(f"generated: {generated}")
    print(f"gate passers (entered the pool): {len(entrants)} = {fmt(1000 * len(entrants) / generated if generated else float('nan'))}"
          " per 1,000 generated")
    if judged:
        print_passers(judged)
    ok = [j for j in judged if j.coins is not None]
    median = float(np.median([j.coins.percentile for j in ok])) if ok else float("nan")
    port_pct = float("nan")
    if ok:
        value, twins, port_pct = portfolio_twins(np.array([j.coins.total_return for j in ok]),
                                                 np.stack([j.coins.twin_returns for j in ok]))
        print(f"pool portfolio ({len(ok)} members, equal weight): hidden-days return {pct(value)}; twin portfolios "
              f"median {pct(float(np.median(twins)))}, 5-95 % {pct(float(np.quantile(twins, 0.05)))}.."
              f"{pct(float(np.quantile(twins, 0.95)))}; percentile {fmt(port_pct)}")
    busy = report.seconds.get("validate", 0.0) + report.seconds.get("backtest", 0.0)
    through = report.counts.get("validator_processed", 0)
    per_hour = through * 3600 / busy if busy > 0 else float("nan")
    print(f"throughput: {through} of {generated} strategies in validate {report.seconds.get('validate', 0):.1f} s + "
          f"backtest {report.seconds.get('backtest', 0):.1f} s = {fmt(per_hour, '.0f')} per hour "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    if diag:
        print(f"*** DIAGNOSTIC RUN (--set {diag}): the line below is not the benchmark's figure ***")
    per_1000 = 1000 * len(entrants) / generated if generated else float("nan")
    return (f"factory: generated={generated} passers={len(entrants)} per_1000={fmt(per_1000)} "
            f"median_pctile={fmt(median)} portfolio_pctile={fmt(port_pct)} per_hour={fmt(per_hour, '.0f')}")


def _sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # unwinds: the temporary folder is removed, worker processes stop


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _sigterm)
    try:
        args = parse_args(argv)
        if args.home is not None and args.home.exists() and any(args.home.iterdir()):
            raise BenchError(f"--home {args.home}: not empty (the benchmark needs a new or empty folder)")
        with tempfile.TemporaryDirectory(prefix="bench_factory_") as tmp:
            root = args.home.resolve() if args.home is not None else Path(tmp) / "home"
            line = run(args, root, Path(tmp))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
