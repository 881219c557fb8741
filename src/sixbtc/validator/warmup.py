"""Warm-up sensitivity test: how much history a strategy needs before its signals settle.

A strategy's signals over an *evaluated range* (the last ``eval_bars`` bars of the sample)
must not change when more history precedes that range. Signals are computed on the
evaluated range with ``W`` bars of warm-up prepended, for increasing ``W``; the reference
is the signals of the same bars computed on the whole sample. The **warm-up needed** is
the smallest ``W`` from which the evaluated-range entries and exits are *exactly* equal
(bool equality, every checked parameter set) for that ``W`` and every larger ``W`` tried.

Search: a ladder ``0, 23, 47, 97, 199, 401, 797, max_warmup - 1, max_warmup`` (capped by
the history the sample holds; odd rungs so that a clock counting bars since the start,
``arange(n) % k``, does not line up by chance), then a bisection between the last failing
and the first passing rung, re-checked at the result + 1 and a few points up to that rung
(bool signals near a threshold can flip back and forth while a seed decays; a failing
point restarts the bisection above it). A strategy that still differs with
``max_warmup - 1`` or ``max_warmup`` bars is *unbounded*
(e.g. TA-Lib's EMA seed with a long period, an expanding statistic over the whole history,
a bar counter since the first bar).

Exact bool equality is a lower bound of the true need when signals are sparse (a missing
cross shows only if the full-history run had one in the first bars of the range), so the
search runs on up to four evaluated ranges ending at different bars (see
:data:`END_OFFSETS`) and reports the largest warm-up found.

Source: the idea follows freqtrade's ``recursive-analysis`` command (compare indicator
values computed with different start-up candle counts); the bool-equality rule and the
ladder are this project's choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sixbtc.strategy.signal_pairs import pair_differs
from sixbtc.validator.lookahead import SignalSource
from sixbtc.validator.views import SampleView

LADDER = (0, 23, 47, 97, 199, 401, 797)
#: Evaluated ranges end this many bars before the sample's end (those that keep more than
#: the largest warm-up of history before them); the answer is the largest over them.
END_OFFSETS = (0, 97, 199, 293)
#: Default largest warm-up tried (bars); a strategy needing more is ``warmup:unbounded``.
MAX_WARMUP_BARS = 1000
#: Default length of the evaluated range (bars).
EVAL_BARS = 500


@dataclass(frozen=True)
class WarmupResult:
    """Outcome of :func:`required_warmup`.

    Attributes
    ----------
    bars : int or None
        Warm-up needed (bars of history before the evaluated range); ``None`` when
        unbounded (signals still differ with ``max_warmup`` bars).
    checked_up_to : int
        Largest warm-up tried (bars).
    bar : int or None
        When unbounded: first bar of an evaluated range (0-based within the range) whose
        signals differ at the largest warm-up that still differs.
    params : dict or None
        When unbounded: the parameter set that showed the difference.
    calls : int
        Signal computations used by the search.
    """

    bars: int | None
    checked_up_to: int
    bar: int | None = None
    params: dict[str, Any] | None = None
    calls: int = 0


def _first_mismatch(got, ref) -> tuple[int, int] | None:
    """``(param_index, bar)`` of the first difference between two signal pairs, or None."""
    diff = pair_differs(got, ref)
    if not diff.any():
        return None
    bars = np.where(diff.any(axis=1), diff.argmax(axis=1), diff.shape[1])
    k = int(bars.argmin())
    return k, int(bars[k])


class _Probe:
    """Signals of one evaluated range for a given warm-up, compared with the reference."""

    def __init__(self, source, sample, params_list, full, eval_bars: int, end: int) -> None:
        self.source, self.params_list, self.eval_bars, self.end = (
            source,
            params_list,
            eval_bars,
            end,
        )
        self.sample = sample
        self.ref = (full[0][:, end - eval_bars : end], full[1][:, end - eval_bars : end])
        self.calls = 0

    def mismatch(self, warmup: int) -> tuple[int, int] | None:
        start = self.end - self.eval_bars - warmup
        if start == 0:
            return None  # this *is* the full history: equal by definition
        self.calls += 1
        window = self.sample.window(start, self.end)
        entries, exits = self.source.signals(window, self.params_list)
        return _first_mismatch((entries[:, warmup:], exits[:, warmup:]), self.ref)


def mismatch_at_warmup(
    source: SignalSource,
    sample: dict[str, np.ndarray],
    params_list: list[dict[str, Any]],
    full: tuple[np.ndarray, np.ndarray],
    warmup: int,
    eval_bars: int = EVAL_BARS,
) -> tuple[int, int] | None:
    """One rung of the warm-up test: do the last ``eval_bars`` bars' signals, computed with
    only ``warmup`` bars of history before them, equal the full-sample signals?

    Parameters
    ----------
    source, sample, params_list, full
        As :func:`required_warmup`.
    warmup : int
        Bars of history before the evaluated range, ``0 <= warmup <= n_bars - eval_bars``.
    eval_bars : int
        Length of the evaluated range (the sample's last bars).

    Returns
    -------
    (int, int) or None
        ``(param_index, bar)`` of the first difference (bar within the evaluated range), or
        ``None`` when equal (one signal call, none when the window is the whole sample).

    Raises
    ------
    ValueError
        If the window does not fit in the sample.
    StrategyRejected
        From the sandbox.
    """
    view = sample if isinstance(sample, SampleView) else SampleView(sample)
    n = view.n_bars
    if not 0 <= warmup <= n - eval_bars:
        raise ValueError(f"warmup {warmup} + eval_bars {eval_bars} must fit in {n} bars")
    return _Probe(source, view, params_list, full, eval_bars, n).mismatch(warmup)


def _settle(probe: _Probe, lo: int, rung: int, rounds: int = 3) -> int:
    """Smallest ``W`` in ``(lo, rung]`` after which spot checks up to ``rung`` all match.

    Bisection assumes monotonicity; bool signals near a threshold can flip back and forth
    while an EMA/RSI seed decays, so the result + 1 and three points up to ``rung`` are
    checked and the bisection repeats above the last one that differs (``rounds`` times;
    then ``rung`` itself, which matches, is the answer).
    """
    hi = rung
    for _ in range(rounds):
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if probe.mismatch(mid) is None:
                hi = mid
            else:
                lo = mid
        spots = sorted({hi + 1, *(int(w) for w in np.linspace(hi, rung, 5)[1:-1])} - {hi, rung})
        spots = [w for w in spots if w < rung]
        failing = [w for w in spots if probe.mismatch(w) is not None]
        if not failing:
            return hi
        lo, hi = failing[-1], rung
    return rung


def _check_args(n: int, eval_bars: int, max_warmup: int) -> None:
    for name, value, low in (("eval_bars", eval_bars, 8), ("max_warmup", max_warmup, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if n <= eval_bars:
        raise ValueError(f"the sample ({n} bars) must be longer than eval_bars={eval_bars}")


def required_warmup(
    source: SignalSource,
    sample: dict[str, np.ndarray],
    params_list: list[dict[str, Any]],
    full: tuple[np.ndarray, np.ndarray],
    *,
    eval_bars: int = EVAL_BARS,
    max_warmup: int = MAX_WARMUP_BARS,
) -> WarmupResult:
    """Find the warm-up (bars) a strategy needs for history-independent signals.

    Parameters
    ----------
    source : SignalSource
        Usually a loaded :class:`sixbtc.strategy.sandbox.StrategySandbox`.
    sample : dict of str -> numpy.ndarray or SampleView
        OHLCV float64 arrays, shape ``(n_bars,)`` with ``n_bars > eval_bars``, or a view
        carrying the extra inputs (each window re-aligned from the raw sources).
    params_list : list of dict
        Parameter sets checked (e.g. spread across the grid).
    full : (entries, exits)
        Signals of ``params_list`` on the whole sample, bool ``(n_params, n_bars)``.
    eval_bars : int
        Length of the evaluated range at the end of the sample (>= 8).
    max_warmup : int
        Largest warm-up tried (bars, >= 1); capped by ``n_bars - eval_bars``.

    Returns
    -------
    WarmupResult
        ``bars`` is the warm-up needed, or ``None`` when even ``max_warmup`` bars (with
        ``max_warmup < n_bars - eval_bars``) do not reproduce the full-history signals.

    Raises
    ------
    ValueError
        Bad ``eval_bars`` / ``max_warmup`` or a sample not longer than ``eval_bars``.
    StrategyRejected
        From the sandbox (timeout, crash, execution error on a shorter window).
    """
    view = sample if isinstance(sample, SampleView) else SampleView(sample)
    n = view.n_bars
    _check_args(n, eval_bars, max_warmup)
    top = min(max_warmup, n - eval_bars)
    ends = [n - o for o in END_OFFSETS if o == 0 or n - o - eval_bars > top]
    results = []
    for end in ends:
        probe = _Probe(source, view, params_list, full, eval_bars, end)
        results.append(_search(probe, top))
        if results[-1].bars is None:
            break
    calls = sum(r.calls for r in results)
    worst = next((r for r in results if r.bars is None), None)
    if worst is None:
        worst = max(results, key=lambda r: r.bars)  # type: ignore[arg-type, return-value]
    return WarmupResult(worst.bars, top, worst.bar, worst.params, calls)


def _search(probe: _Probe, top: int) -> WarmupResult:
    """Ladder, bisection and re-check on one evaluated range (see the module notes)."""
    params_list = probe.params_list
    ladder = sorted({w for w in LADDER if w < top - 1} | {max(top - 1, 0), top})
    results = [probe.mismatch(w) for w in ladder]
    first = len(ladder)
    while first > 0 and results[first - 1] is None:
        first -= 1
    if first >= len(ladder) - 1:  # top - 1 or top differs
        k, bar = next(r for r in reversed(results) if r is not None)
        return WarmupResult(None, top, bar, params_list[k], probe.calls)
    if first == 0:
        return WarmupResult(0, top, calls=probe.calls)
    return WarmupResult(_settle(probe, ladder[first - 1], ladder[first]), top, calls=probe.calls)
