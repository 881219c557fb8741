"""``sixbtc validate FILE.py``: run the validator on a user-written strategy and report.

Data: the last ``validator.sample_bars`` BTC 1h candles of the home's store when it holds
at least 1,500 of them, else the bundled synthetic random walk
(:func:`sixbtc.validator.sample.synthetic_sample`, fixed seed). Limits and the allowed
warm-up come from the home's configuration (``validator.*``, ``backtest.warmup_bars``).
Exit code 0 when the strategy passes, 1 when it is rejected, 2 on a usage error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import typer

from sixbtc.adapters.storage.candle_store import ParquetCandleStore
from sixbtc.app.home import Home
from sixbtc.cli.context import console, err_console
from sixbtc.config import Settings, load_settings
from sixbtc.core.errors import ConfigError, DataError
from sixbtc.strategy.contract import OHLCV_KEYS
from sixbtc.strategy.sandbox import SandboxLimits, StrategySandbox
from sixbtc.validator import ValidationReport, validate
from sixbtc.validator.sample import SYNTHETIC_SEED, synthetic_sample

PHASES = ("syntax", "ast", "execution", "lookahead")
#: Fewest real candles used instead of the synthetic sample (the warm-up test needs them).
MIN_REAL_BARS = 1500


def _sample(home: Home, settings: Settings) -> tuple[dict[str, np.ndarray], str]:
    """The validation sample and a one-line description of where it came from."""
    bars = settings.validator.sample_bars
    if home.store_dir.is_dir():
        try:
            store = ParquetCandleStore(home.store_dir)
            if store.has("BTC", "1h"):
                df = store.read_candles("BTC", "1h").tail(bars)
                if len(df) >= MIN_REAL_BARS:
                    sample = {k: df[k].to_numpy(np.float64) for k in OHLCV_KEYS}
                    return sample, f"BTC 1h, last {len(df)} candles of {home.store_dir}"
        except DataError as exc:
            err_console.print(f"[yellow]store unusable ({exc}); using synthetic data[/]")
    n = max(bars, MIN_REAL_BARS)
    return synthetic_sample(n), f"synthetic geometric random walk (seed {SYNTHETIC_SEED}, {n} bars)"


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
    name = f" ({out['strategy']})" if out["strategy"] else ""
    console.print(f"[bold]{out['file']}[/]{name}", highlight=False)
    console.print(f"data: {out['data']}")
    for phase, state in out["phases"].items():
        colour = {"pass": "green", "FAIL": "bold red"}.get(state, "dim")
        extra = ""
        if state == "FAIL":  # static findings are listed below, one per line
            extra = f"  {out['reason']}" + ("" if out["findings"] else f": {out['detail']}")
        console.print(f"  {phase:<10} [{colour}]{state}[/]{extra}", highlight=False)
    for f in out["findings"]:
        console.print(f"    line {f['line']:>4}  {f['rule']:<24} {f['detail']}", highlight=False)
    warm = out["warmup_bars"]
    need = "not measured" if warm is None else f"{warm} bars"
    console.print(f"warm-up needed: {need} (backtest allows {out['allowed_warmup']})")
    verdict = (
        "[bold green]PASSED[/]" if out["passed"] else f"[bold red]REJECTED[/] ({out['reason']})"
    )
    console.print(f"verdict: {verdict}")


def validate_file(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Strategy source file (one Strategy_* class)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Validate a strategy file: syntax, AST gate, sandboxed execution, look-ahead, warm-up."""
    if not file.is_file():
        err_console.print(f"[bold red]error:[/] no such file: {file}")
        raise typer.Exit(2)
    home: Home = ctx.obj
    try:
        settings = load_settings(home.config_path)
    except ConfigError as exc:
        err_console.print(f"[bold red]configuration error:[/] {exc}")
        raise typer.Exit(2) from None
    code = file.read_text(encoding="utf-8", errors="replace")
    sample, data = _sample(home, settings)
    v, allowed = settings.validator, settings.backtest.warmup_bars
    with StrategySandbox(SandboxLimits(wall_s=v.wall_s, memory_mb=v.memory_mb)) as sandbox:
        report = validate(code, sandbox, sample, cut_points=v.cut_points, allowed_warmup=allowed)
    out = report_dict(report, file, data, allowed)
    if as_json:
        typer.echo(json.dumps(out))
    else:
        _print(out)
    raise typer.Exit(0 if report.passed else 1)
