"""The validator pipeline (SPEC §3.3): syntax → AST gate → execution → empirical look-ahead.

Phases run in order and stop at the first failure; the report names the phase and a
machine-friendly reason:

============  ====================================================================
phase         reasons
============  ====================================================================
``syntax``    ``syntax``, ``syntax:structure``
``ast``       the first finding's rule (``ast:forbidden_import``, ``ast:negative_shift``…)
``execution`` ``contract:*``, ``execution:error``, ``execution:bad_output``,
              ``execution:too_few_signals``, ``sandbox:timeout|crashed|memory``
``lookahead`` ``lookahead:truncation``, ``lookahead:shuffle``, ``warmup:unbounded``
              (signals still depend on history ``max_warmup`` bars back),
              ``warmup:exceeds_config`` (needs more than ``allowed_warmup`` bars), or a
              ``sandbox:*`` / ``execution:*`` reason raised while re-running
``passed``    — (``passed=True``, ``reason=None``, ``warmup_bars`` set)
============  ====================================================================

The lookahead phase runs the truncation and shuffle tests
(:mod:`sixbtc.validator.lookahead`), then the warm-up sensitivity test
(:mod:`sixbtc.validator.warmup`) on the primary sample, then (only for a strategy that passed
so far: the dearest part last) the truncation and shuffle tests with fewer cuts and one
warm-up rung on every extra sample (:mod:`sixbtc.validator.multisample`; by default the
synthetic extras of :func:`sixbtc.validator.sample.synthetic_extras`, the factory adds real
ones from the store, :mod:`sixbtc.validator.samples`). A rejection on an extra names the
sample (:attr:`ValidationReport.sample` and the detail's ``on sample …``).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sixbtc.core.errors import StrategyRejected
from sixbtc.domain.timeframe import Timeframe
from sixbtc.strategy.contract import OHLCV_KEYS, StrategySpec
from sixbtc.strategy.inputs import MarketSample
from sixbtc.strategy.sandbox import StrategySandbox
from sixbtc.strategy.signal_pairs import entry_counts
from sixbtc.validator.ast_gate import Finding, check_ast, check_structure
from sixbtc.validator.lookahead import run_lookahead_tests
from sixbtc.validator.multisample import check_extra_samples
from sixbtc.validator.sample import NamedSample, synthetic_extras
from sixbtc.validator.views import view_for
from sixbtc.validator.warmup import EVAL_BARS, MAX_WARMUP_BARS, required_warmup

MIN_SAMPLE_BARS = 100


@dataclass(frozen=True)
class ValidationReport:
    """Outcome of :func:`validate`.

    Attributes
    ----------
    passed : bool
    phase : str
        ``syntax``, ``ast``, ``execution``, ``lookahead`` (where it failed) or ``passed``.
    reason : str or None
        Machine-friendly rejection reason; ``None`` when passed.
    detail : str
        Human-readable detail (line numbers, first differing bar, parameters).
    spec : StrategySpec or None
        The declared spec once the execution phase has loaded it.
    findings : tuple of Finding
        Static findings (syntax/structure/AST phases).
    warmup_bars : int or None
        Bars of history the strategy needs before its signals no longer depend on where
        the data starts (set once the warm-up test ran and found a bound).
    sample : str or None
        Name of the extra sample the rejection showed on; ``None`` for the primary sample
        and the static phases.
    """

    passed: bool
    phase: str
    reason: str | None
    detail: str
    spec: StrategySpec | None
    findings: tuple[Finding, ...]
    warmup_bars: int | None = None
    sample: str | None = None


def _reject(
    phase: str, reason: str, detail: str, spec=None, findings=(), warmup_bars=None
) -> ValidationReport:
    return ValidationReport(False, phase, reason, detail, spec, tuple(findings), warmup_bars)


def spread_param_sets(spec: StrategySpec, count: int) -> list[dict[str, Any]]:
    """``count`` parameter sets spread evenly across ``spec.grid()`` (first, …, last)."""
    grid = spec.grid()
    idx = sorted(
        set(np.linspace(0, len(grid) - 1, min(count, len(grid))).round().astype(int).tolist())
    )
    return [grid[i] for i in idx]


def _check_args(code: str, sample: dict[str, np.ndarray], **ints: int | None) -> None:
    if not isinstance(code, str):
        raise ValueError(f"code must be a str of Python source, got {type(code).__name__}")
    lows = {"cut_points": 1, "extra_cut_points": 1, "max_param_sets": 1, "min_signals": 0, "max_warmup": 1}
    for name, value in ints.items():
        low = lows.get(name, 0)
        if value is None and name == "allowed_warmup":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if isinstance(sample, MarketSample):
        n = sample.n_bars
    elif not isinstance(sample, dict) or any(k not in sample for k in OHLCV_KEYS):
        raise ValueError(f"sample must be a dict with the OHLCV arrays {OHLCV_KEYS} or a MarketSample")
    else:
        n = len(sample["close"])
    if n < MIN_SAMPLE_BARS:
        raise ValueError(f"sample needs >= {MIN_SAMPLE_BARS} bars, got {n}")


def _extras(code: str, extra_samples: Sequence[NamedSample] | None) -> list[NamedSample]:
    """The extra samples to use (``None`` = the synthetic ones), each checked like the primary."""
    extras = synthetic_extras() if extra_samples is None else list(extra_samples)
    for extra in extras:
        if not isinstance(extra, NamedSample):
            raise ValueError(f"extra_samples must hold NamedSample items, got {type(extra).__name__}")
        try:
            _check_args(code, extra.source)
        except ValueError as exc:
            raise ValueError(f"extra sample {extra.name!r}: {exc}") from None
    return extras


def static_phases(code: str) -> ValidationReport | None:
    """The static phases alone (syntax, structure, AST gate): the rejecting report, or None
    when the source passes them (no sandbox, no data needed)."""
    try:
        tree = ast.parse(code, filename="<strategy>")
    except (SyntaxError, ValueError):
        found = check_ast(code)
        return _reject(
            "syntax", "syntax", f"line {found[0].line}: {found[0].detail}", findings=found
        )
    structure = check_structure(tree)
    if structure:
        return _reject(
            "syntax", "syntax:structure", "; ".join(f.detail for f in structure), findings=structure
        )
    findings = check_ast(code)
    if findings:
        detail = "; ".join(f"line {f.line}: {f.rule} ({f.detail})" for f in findings)
        return _reject("ast", findings[0].rule, detail, findings=findings)
    return None


def _warmup_phase(
    sandbox, sample, params_list, full, spec, max_warmup: int, allowed: int | None
) -> ValidationReport:
    n = sample.n_bars
    result = required_warmup(
        sandbox, sample, params_list, full, eval_bars=min(EVAL_BARS, n // 2), max_warmup=max_warmup
    )
    if result.bars is None:
        detail = (
            f"signals do not settle within {result.checked_up_to} bars of warm-up: they still "
            f"differ from the full-history signals (bar {result.bar} of an evaluated "
            f"{min(EVAL_BARS, n // 2)}-bar range, params {result.params})"
        )
        return _reject("lookahead", "warmup:unbounded", detail, spec)
    if allowed is not None and result.bars > allowed:
        detail = f"needs {result.bars} bars of warm-up, the backtest allows {allowed}"
        return _reject("lookahead", "warmup:exceeds_config", detail, spec, warmup_bars=result.bars)
    detail = f"warmup_bars={result.bars}"
    return ValidationReport(True, "passed", None, detail, spec, (), result.bars)


def smallest_bar_ms(spec: StrategySpec) -> int:
    """Bar length (ms) of the shortest declared timeframe."""
    return min(Timeframe.parse(t).ms for t in spec.timeframes)


def validate(
    code: str,
    sandbox: StrategySandbox,
    sample: dict[str, np.ndarray] | MarketSample,
    *,
    cut_points: int = 5,
    max_param_sets: int = 3,
    min_signals: int = 3,
    allowed_warmup: int | None = None,
    max_warmup: int = MAX_WARMUP_BARS,
    extra_samples: Sequence[NamedSample] | None = None,
    extra_cut_points: int = 2,
) -> ValidationReport:
    """Validate strategy source through all phases.

    Parameters
    ----------
    code : str
        Strategy source.
    sandbox : StrategySandbox
        Worker used for execution and the empirical tests (a new strategy is loaded).
    sample : dict of str -> numpy.ndarray or MarketSample
        OHLCV float64 arrays of shape ``(n_bars,)``, ``n_bars >= 100`` (e.g. the last
        2,000 1h candles of BTC; the warm-up test needs ``n_bars >= 1,500`` to tell
        "unbounded" from "needs up to 1,000 bars"), or the raw sources of the extra
        inputs (:class:`sixbtc.strategy.inputs.MarketSample`; a dict given for a strategy
        that declares extra inputs gets a synthetic clock, funding and BTC,
        :func:`sixbtc.validator.views.synthetic_market`). Every test covers every declared
        input (:mod:`sixbtc.validator.views`).
    cut_points : int
        Cut points of the truncation and shuffle tests (>= 1).
    max_param_sets : int
        Parameter sets checked, spread across the grid (>= 1).
    min_signals : int
        At least one checked parameter set must produce this many entries (>= 0).
    allowed_warmup : int or None
        Warm-up bars the backtester gives a strategy (``backtest.warmup_bars``); a strategy
        needing more is rejected with ``warmup:exceeds_config``. ``None``: no limit.
    max_warmup : int
        Largest warm-up tried (bars); needing more is ``warmup:unbounded``.
    extra_samples : sequence of NamedSample or None
        Further samples (other coins, lengths, price and volume scales, start dates) the
        truncation and shuffle tests also run on; ``None`` = the synthetic extras, ``()`` =
        none. Each needs >= 100 bars.
    extra_cut_points : int
        Cut points of the truncation and shuffle tests per extra sample (>= 1).

    Returns
    -------
    ValidationReport
        On success ``detail`` is ``"warmup_bars=<W>"`` and ``warmup_bars`` is ``W``.

    Raises
    ------
    ValueError
        Bad arguments (named). Strategy failures never raise: they are in the report.
    """
    _check_args(code, sample, cut_points=cut_points, max_param_sets=max_param_sets, min_signals=min_signals,
                allowed_warmup=allowed_warmup, max_warmup=max_warmup, extra_cut_points=extra_cut_points)  # fmt: skip
    extras = _extras(code, extra_samples)
    static = static_phases(code)
    if static is not None:
        return static
    try:
        spec = sandbox.load(code)
        params_list = spread_param_sets(spec, max_param_sets)
        view = view_for(sample, spec.inputs, smallest_bar_ms(spec))
        data = view.full()
        full = sandbox.signals(data, params_list)
    except StrategyRejected as exc:
        return _reject("execution", exc.reason, exc.detail)
    counts = entry_counts(full, data["low"], data["high"], spec.direction.sign)
    if counts.max() < min_signals:
        return _reject(
            "execution",
            "execution:too_few_signals",
            f"entries per parameter set {counts.tolist()} < {min_signals}",
            spec,
        )
    try:
        hit = run_lookahead_tests(sandbox, view, params_list, full, cut_points)
        if hit is not None:
            detail = f"signals differ at bar {hit.bar} (cut at {hit.cut} bars, params {hit.params})"
            return _reject("lookahead", f"lookahead:{hit.test}", detail, spec)
        report = _warmup_phase(sandbox, view, params_list, full, spec, max_warmup, allowed_warmup)
    except StrategyRejected as exc:
        return _reject("lookahead", exc.reason, exc.detail, spec)
    if not report.passed:
        return report
    found = check_extra_samples(sandbox, extras, params_list, cut_points=extra_cut_points, max_warmup=max_warmup,
                                inputs=spec.inputs, bar_ms=smallest_bar_ms(spec))
    if found is None:
        return report
    return replace(_reject("lookahead", found.reason, found.detail, spec, warmup_bars=report.warmup_bars),
                   sample=found.sample)

