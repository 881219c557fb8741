"""Empirical look-ahead tests (SPEC §3.3 phase "empirical look-ahead / shuffle test").

A causal strategy's signal at bar ``i`` depends only on bars ``<= i``. Hence:

* **truncation**: signals computed on ``sample[:cut]`` equal the full-sample signals on
  bars ``[0, cut)``;
* **shuffle**: permuting the bars after ``cut`` leaves the signals on ``[0, cut)``
  unchanged.

Any difference is look-ahead; the first differing bar is reported. Cut points are chosen
mostly right after bars where the full-sample signals fire (the last bar of the truncated
history is then a signal bar — where a peek into the future shows), the rest spread
evenly over the second three quarters of the sample (after indicator warm-up). The
truncation test adds one short cut (``n_bars // 10`` bars, at least
:data:`MIN_SHORT_CUT`) so that code that behaves differently when it sees little data
(e.g. returns perfect signals when ``len(close)`` is small) shows a difference too.

Source: M. López de Prado, *Advances in Financial Machine Learning* (2018), ch. 7
(leakage) — the truncation test is the "recompute on a prefix" check used by
freqtrade's ``lookahead-analysis``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from sixbtc.strategy.permutation import permute_bars
from sixbtc.strategy.signal_pairs import active_bars, pair_differs
from sixbtc.validator.views import SampleView

#: Smallest extra "short history" cut of the truncation test (bars).
MIN_SHORT_CUT = 50


class SignalSource(Protocol):
    """Anything with the :meth:`StrategySandbox.signals` signature."""

    def signals(
        self, data: dict[str, np.ndarray], params_list: list[dict]
    ) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class LookaheadFinding:
    """Where a look-ahead test found a difference.

    Attributes
    ----------
    test : str
        ``"truncation"`` or ``"shuffle"``.
    cut : int
        Number of bars kept before the cut.
    bar : int
        First bar index (0-based, ``< cut``) whose entry or exit differs.
    params : dict
        The parameter set that showed the difference.
    """

    test: str
    cut: int
    bar: int
    params: dict[str, Any]


def choose_cuts(entries: np.ndarray, exits: np.ndarray, count: int) -> list[int]:
    """Pick ``count`` cut points (bars kept) from full-sample signals.

    Parameters
    ----------
    entries, exits : numpy.ndarray
        bool, shape ``(n_params, n_bars)`` (a grid strategy's float ``center, step``: the
        bars with a grid count as firing, :func:`~sixbtc.strategy.signal_pairs.active_bars`).
    count : int
        Number of cut points, >= 1.

    Returns
    -------
    list of int
        Sorted distinct cuts in ``[n_bars // 4, n_bars - 1]``; about two thirds of them are
        ``j + 1`` for a signal bar ``j``.

    Raises
    ------
    ValueError
        If ``count < 1`` or there are fewer than 8 bars.
    """
    n = entries.shape[1]
    if count < 1:
        raise ValueError(f"cut_points must be >= 1, got {count}")
    if n < 8:
        raise ValueError(f"need at least 8 bars for the look-ahead tests, got {n}")
    lo, hi = n // 4, n - 1
    fired = np.flatnonzero(active_bars((entries, exits)).any(axis=0)) + 1
    fired = fired[(fired >= lo) & (fired <= hi)]
    n_signal = min(len(fired), max(1, (2 * count + 2) // 3))
    cuts = (
        set(fired[np.linspace(0, len(fired) - 1, n_signal).round().astype(int)].tolist())
        if n_signal
        else set()
    )
    for cut in np.linspace(lo, hi, count + 2)[1:-1].round().astype(int):
        if len(cuts) >= count:
            break
        cuts.add(int(cut))
    return sorted(cuts)


def shuffle_after(sample: dict[str, np.ndarray], cut: int, seed: int) -> dict[str, np.ndarray]:
    """Permute the bars after ``cut`` while keeping every bar's OHLC consistent.

    :func:`sixbtc.strategy.permutation.permute_bars` with ``default_rng(seed)``: each bar
    ``i >= cut`` is described relative to the previous close, these shapes are permuted and
    the path is rebuilt from ``close[cut-1]`` (``low <= open, close <= high`` holds, prices
    stay continuous and on the input's decimal tick, so the permuted bars cannot be told
    from real ones by their price grid).

    Parameters
    ----------
    sample : dict of str -> numpy.ndarray
        OHLCV float64 arrays of shape ``(n_bars,)``, prices > 0.
    cut : int
        ``1 <= cut < n_bars``; bars ``[0, cut)`` are untouched.
    seed : int
        Seed of the permutation (deterministic).

    Returns
    -------
    dict of str -> numpy.ndarray
        A new sample of the same shape.

    Raises
    ------
    ValueError
        If ``cut`` is out of range.
    """
    n = len(sample["close"])
    if not 1 <= cut < n:
        raise ValueError(f"cut must be in [1, {n}), got {cut}")
    return permute_bars(sample, cut, np.random.default_rng(seed))


def _first_difference(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], cut: int):
    """``(param_index, bar)`` of the first difference on bars ``[0, cut)``, or ``None``."""
    diff = pair_differs((a[0][:, :cut], a[1][:, :cut]), (b[0][:, :cut], b[1][:, :cut]))
    if not diff.any():
        return None
    bars = np.where(diff.any(axis=1), diff.argmax(axis=1), cut)
    k = int(bars.argmin())
    return k, int(bars[k])


def run_lookahead_tests(
    source: SignalSource,
    sample: dict[str, np.ndarray] | SampleView,
    params_list: list[dict[str, Any]],
    full: tuple[np.ndarray, np.ndarray],
    cut_points: int,
) -> LookaheadFinding | None:
    """Run the truncation test (plus one short cut), then the shuffle test.

    Parameters
    ----------
    source : SignalSource
        Usually a loaded :class:`sixbtc.strategy.sandbox.StrategySandbox`.
    sample : dict of str -> numpy.ndarray or SampleView
        OHLCV arrays, shape ``(n_bars,)``, or a view carrying the strategy's extra inputs
        (:class:`sixbtc.validator.views.SampleView`: truncated samples are re-aligned from
        the raw sources cut at the last kept bar's close; the shuffle permutes every input).
    params_list : list of dict
        Parameter sets to check.
    full : (entries, exits)
        Signals of ``params_list`` on the full sample, bool ``(n_params, n_bars)``.
    cut_points : int
        Number of cut points.

    Returns
    -------
    LookaheadFinding or None
        The first difference found, or ``None`` when both tests pass.

    Raises
    ------
    StrategyRejected
        From the sandbox (timeout, crash, execution error on a truncated sample).
    """
    view = sample if isinstance(sample, SampleView) else SampleView(sample)
    cuts = choose_cuts(full[0], full[1], cut_points)
    n = full[0].shape[1]
    short = max(MIN_SHORT_CUT, n // 10)
    for cut in ([short] if short < cuts[0] else []) + cuts:
        truncated = view.window(0, cut)
        hit = _first_difference(source.signals(truncated, params_list), full, cut)
        if hit is not None:
            return LookaheadFinding("truncation", cut, hit[1], params_list[hit[0]])
    for cut in cuts:
        if not 1 <= cut < view.n_bars:
            raise ValueError(f"cut must be in [1, {view.n_bars}), got {cut}")
        shuffled = view.shuffled(cut, seed=cut)
        hit = _first_difference(source.signals(shuffled, params_list), full, cut)
        if hit is not None:
            return LookaheadFinding("shuffle", cut, hit[1], params_list[hit[0]])
    return None
