"""The empirical look-ahead tests on the extra samples (issue 8: look-ahead that switches on
the data).

Code can behave honestly on the primary sample and read the future when the series is
longer, cheaper, more volatile, … than that sample. Each extra sample
(:mod:`sixbtc.validator.samples`) therefore gets, in this order:

1. the full-sample signals (one call);
2. the truncation test with the short cut and ``cut_points`` cuts, then the shuffle test
   with the same cuts (:func:`sixbtc.validator.lookahead.run_lookahead_tests`);
3. one rung of the warm-up test at ``max_warmup`` bars, when the sample holds more than
   ``max_warmup + EVAL_BARS`` bars (:func:`sixbtc.validator.warmup.mismatch_at_warmup`):
   signals that still depend on history that far back are ``warmup:unbounded``.

That is ``3 + 2 * cut_points`` signal calls per sample (fewer without the warm-up rung), the
primary sample's full search costing about 70-90. The primary sample alone measures the
warm-up needed (``warmup_bars``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sixbtc.core.errors import StrategyRejected
from sixbtc.validator.lookahead import SignalSource, run_lookahead_tests
from sixbtc.validator.sample import NamedSample
from sixbtc.validator.views import HOUR_MS, view_for
from sixbtc.validator.warmup import EVAL_BARS, mismatch_at_warmup


@dataclass(frozen=True)
class ExtraFinding:
    """Why an extra sample rejected the strategy.

    Attributes
    ----------
    sample : str
        The sample's name.
    reason : str
        ``lookahead:truncation``, ``lookahead:shuffle``, ``warmup:unbounded`` or the
        ``sandbox:*`` / ``execution:*`` reason raised while computing signals on it.
    detail : str
        First differing bar, cut and parameters (or the sandbox's detail), ending with
        ``on sample <name>``.
    """

    sample: str
    reason: str
    detail: str


def _one(source: SignalSource, extra: NamedSample, params_list: list[dict[str, Any]], cut_points: int,
         max_warmup: int, inputs: tuple[str, ...], bar_ms: int) -> ExtraFinding | None:
    where = f"on sample {extra.name}"
    data = view_for(extra.source, inputs, bar_ms)
    full = source.signals(data.full(), params_list)
    hit = run_lookahead_tests(source, data, params_list, full, cut_points)
    if hit is not None:
        detail = f"signals differ at bar {hit.bar} (cut at {hit.cut} bars, params {hit.params}) {where}"
        return ExtraFinding(extra.name, f"lookahead:{hit.test}", detail)
    if data.n_bars > max_warmup + EVAL_BARS:
        miss = mismatch_at_warmup(source, data, params_list, full, max_warmup)
        if miss is not None:
            detail = (f"signals do not settle within {max_warmup} bars of warm-up: they still differ from the "
                      f"full-history signals (bar {miss[1]} of the last {EVAL_BARS} bars, params "
                      f"{params_list[miss[0]]}) {where}")
            return ExtraFinding(extra.name, "warmup:unbounded", detail)
    return None


def check_extra_samples(
    source: SignalSource,
    extras: Sequence[NamedSample],
    params_list: list[dict[str, Any]],
    *,
    cut_points: int,
    max_warmup: int,
    inputs: tuple[str, ...] = (),
    bar_ms: int = HOUR_MS,
) -> ExtraFinding | None:
    """Run the look-ahead tests on every extra sample; stop at the first finding.

    Parameters
    ----------
    source : SignalSource
        The loaded strategy (usually a sandbox).
    extras : sequence of NamedSample
        Samples of at least 8 bars each.
    params_list : list of dict
        Parameter sets checked (the primary sample's).
    cut_points : int
        Cuts of the truncation and shuffle tests per sample (>= 1).
    max_warmup : int
        Warm-up rung checked on samples longer than ``max_warmup + EVAL_BARS``.
    inputs : tuple of str
        The strategy's declared extra inputs (every test covers them,
        :mod:`sixbtc.validator.views`).
    bar_ms : int
        Bar length (ms) of the synthetic clock given to a sample whose timeframe does not
        fit a declared higher timeframe.

    Returns
    -------
    ExtraFinding or None
        The first finding, or ``None`` when every sample passes.
    """
    for extra in extras:
        try:
            found = _one(source, extra, params_list, cut_points, max_warmup, inputs, bar_ms)
        except StrategyRejected as exc:
            found = ExtraFinding(extra.name, exc.reason, f"{exc.detail} on sample {extra.name}")
        if found is not None:
            return found
    return None
