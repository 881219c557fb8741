"""``sixbtc validate FILE.py``: run the validator on a user-written strategy and report.

Data: the last ``validator.sample_bars`` BTC 1h candles of the home's store when it holds
at least 1,500 of them, else the bundled synthetic random walk
(:func:`sixbtc.validator.sample.synthetic_sample`, fixed seed), plus the factory's extra
samples (other coins, price scales, start dates, lengths; synthetic extremes). Limits and the allowed
warm-up come from the home's configuration (``validator.*``, ``backtest.warmup_bars``).
The static phases (syntax, AST gate) run first: a file they reject is reported without
loading the store or starting a sandbox worker.
Exit code 0 when the strategy passes, 1 when it is rejected, 2 on a usage error (with
``--json`` the error is printed as ``{"file", "passed": false, "error"}``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.markup import escape

from sixbtc.app.home import Home
from sixbtc.cli.context import console, err_console, friendly_errors, report_error
from sixbtc.config import Settings, load_settings
from sixbtc.core.errors import ConfigError, DataError
from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox
from sixbtc.validator import ValidationReport, validate
from sixbtc.validator.pipeline import static_phases  # syntax + AST gate only
from sixbtc.validator.sample import SYNTHETIC_SEED, synthetic_sample

if TYPE_CHECKING:
    from sixbtc.validator.sample import NamedSample

PHASES = ("syntax", "ast", "execution", "lookahead")
#: Fewest real candles used instead of the synthetic sample (the warm-up test needs them).
MIN_REAL_BARS = 1500


def _samples(home: Home, settings: Settings) -> tuple[Any, list[NamedSample], str]:
    """The primary validation sample, the extra samples and a one-line description of the data.

    The extras are those of the factory (:func:`sixbtc.validator.samples.extra_samples`): other
    coins, price scales, start dates and lengths from the store when it holds them, then the
    synthetic ones.
    """
    from sixbtc.adapters.storage.candle_store import ParquetCandleStore
    from sixbtc.validator.samples import (  # pandas: past the static phases only
        backtest_span,
        extra_samples,
        named_sample,
    )

    bars = settings.validator.sample_bars
    if home.store_dir.is_dir():
        try:
            store = ParquetCandleStore(home.store_dir)
            if store.has("BTC", "1h"):
                df = store.read_candles("BTC", "1h").tail(bars)
                if len(df) >= MIN_REAL_BARS:
                    sample = named_sample(df, "BTC 1h", store, "BTC", "1h").market  # real clock, funding, BTC
                    bt = settings.backtest
                    shortest, span = backtest_span(bt.warmup_bars, bt.is_days + bt.oos_days, bt.timeframes)
                    extras = extra_samples(store, end=None, primary="BTC", long_timeframe=shortest,
                                           long_bars=span)
                    return sample, extras, (f"BTC 1h, last {len(df)} candles of {home.store_dir}, "
                                            f"+ {len(extras)} extra samples")
        except DataError as exc:
            err_console.print(f"[yellow]store unusable ({exc}); using synthetic data[/]")
    n = max(bars, MIN_REAL_BARS)
    extras = extra_samples(None)
    return synthetic_sample(n), extras, (f"synthetic geometric random walk (seed {SYNTHETIC_SEED}, {n} bars), "
                                         f"+ {len(extras)} synthetic extra samples")


def report_dict(report: ValidationReport, path: Path, data: str, allowed: int) -> dict[str, Any]:
    """The report as plain JSON types (phase by phase, findings with line numbers)."""
    failed = PHASES.index(report.phase) if report.phase in PHASES else len(PHASES)
    phases = {p: "pass" if i < failed else "FAIL" if i == failed else "not run"
              for i, p in enumerate(PHASES)}  # fmt: skip
    return {
        "file": str(path), "passed": report.passed, "phase": report.phase,
        "reason": report.reason, "detail": report.detail, "phases": phases,
        "findings": [{"line": f.line, "rule": f.rule, "detail": f.detail} for f in report.findings],
        "warmup_bars": report.warmup_bars, "allowed_warmup": allowed, "data": data,
        "strategy": report.spec.class_name if report.spec else None,
    }  # fmt: skip


def _print(out: dict[str, Any]) -> None:
    """The report, one phase per line (text from the file is escaped, never read as markup)."""
    name = f" ({escape(out['strategy'])})" if out["strategy"] else ""
    console.print(f"[bold]{escape(out['file'])}[/]{name}", highlight=False, soft_wrap=True)  # one line
    console.print(f"data: {escape(out['data'])}", highlight=False)
    for phase, state in out["phases"].items():
        colour = {"pass": "green", "FAIL": "bold red"}.get(state, "dim")
        extra = ""
        if state == "FAIL":  # static findings are listed below, one per line
            extra = f"  {out['reason']}" + ("" if out["findings"] else f": {out['detail']}")
        console.print(f"  {phase:<10} [{colour}]{state}[/]{escape(extra)}", highlight=False)
    for f in out["findings"]:
        console.print(f"    line {f['line']:>4}  {f['rule']:<24} {escape(f['detail'])}", highlight=False)
    warm = out["warmup_bars"]
    need = "not measured" if warm is None else f"{warm} bars"
    console.print(f"warm-up needed: {need} (backtest allows {out['allowed_warmup']})")
    verdict = (
        "[bold green]PASSED[/]" if out["passed"] else f"[bold red]REJECTED[/] ({escape(str(out['reason']))})"
    )
    console.print(f"verdict: {verdict}")


def _usage_error(file: Path, message: str) -> NoReturn:
    """Print a usage or configuration error (as JSON with ``--json``) and exit 2."""
    report_error(message, 2, file=str(file), passed=False)


def read_strategy_file(file: Path) -> str:
    """The text of a strategy file (undecodable bytes replaced); a usage error (exit 2) if it
    is missing, a directory or unreadable."""
    if file.is_dir():
        _usage_error(file, f"{file} is a directory: give one strategy file")
    if not file.is_file():
        _usage_error(file, f"no such file: {file}")
    try:
        return file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        _usage_error(file, f"cannot read {file}: {exc.strerror or exc}")


def validate_file(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Strategy source file (one Strategy_* class)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (also for errors)."),
) -> None:
    """Validate a strategy file: syntax, AST gate, sandboxed execution, look-ahead, warm-up."""
    code = read_strategy_file(file)
    home: Home = ctx.obj
    try:
        settings = load_settings(home.config_path)
    except ConfigError as exc:
        _usage_error(file, f"configuration error: {exc}")
    allowed = settings.backtest.warmup_bars
    report = static_phases(code)
    data = "not loaded (rejected by the static phases)"
    if report is None:
        sample, extras, data = _samples(home, settings)
        v = settings.validator
        with friendly_errors(file=str(file), passed=False), StrategySandbox(SandboxLimits.from_section(v)) as sandbox:
            report = validate(code, sandbox, sample, cut_points=v.cut_points, allowed_warmup=allowed,
                              extra_samples=extras, extra_cut_points=v.extra_cut_points)
    out = report_dict(report, file, data, allowed)
    if as_json:
        typer.echo(json.dumps(out))
    else:
        _print(out)
    raise typer.Exit(0 if report.passed else 1)
