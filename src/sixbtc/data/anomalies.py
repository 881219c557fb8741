"""Isolated one-bar price spikes in a valid candle frame: reported, never dropped.

A bad tick (a price 100× too high for one bar) and a real flash crash look alike in the data,
so SixBTC keeps the row and warns: the importer and the downloader put one warning per spike
in their results (``sixbtc data import`` prints them per file) and the user decides.

Rules (bar ``i`` with both neighbours; the first and last bar of a frame are not judged):

* **close spike**: ``close[i]`` is at least :data:`CLOSE_SPIKE_FACTOR` times *both*
  ``close[i-1]`` and ``close[i+1]`` (or at most 1/factor of both): the price jumps and reverts
  within one bar;
* **wick spike**: ``high[i]`` is at least :data:`WICK_SPIKE_FACTOR` times the largest of
  ``open[i]``, ``close[i]``, ``close[i-1]``, ``close[i+1]`` (or ``low[i]`` at most 1/factor of
  the smallest of them).

Thresholds come from a survey of the reference data (``shared/data``, 131 candle files,
5m to 1d): the largest close-to-both-neighbours ratio is 1.77 and the largest wick ratio 5.8,
apart from two published bad ticks (Coinbase BTC 1d, ×19,562; Binance spot LINK 1h, ×23,479),
which these rules report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CLOSE_SPIKE_FACTOR = 3.0
"""A close at least this many times both neighbouring closes (or 1/this) is a spike."""

WICK_SPIKE_FACTOR = 10.0
"""A high (low) this many times above (below) the bar's body and both neighbours is a spike."""

MAX_SPIKE_WARNINGS = 5
"""How many spikes :func:`spike_warnings` lists one by one before summarising the rest."""


@dataclass(frozen=True)
class Spike:
    """One isolated one-bar outlier.

    Attributes
    ----------
    ts : pandas.Timestamp
        Open time (UTC) of the bar.
    column : str
        ``"close"``, ``"high"`` or ``"low"``.
    value : float
        The outlying price (quote currency).
    reference : float
        The level it is compared with (neighbouring closes / the bar's body).
    factor : float
        ``value / reference`` for an upward spike, ``reference / value`` for a downward one (>= 1).
    """

    ts: pd.Timestamp
    column: str
    value: float
    reference: float
    factor: float

    def describe(self) -> str:
        """One line, e.g. ``"2024-01-01T20:00Z: close 10000 is 100.0x its neighbours ..."``."""
        side = "above" if self.value > self.reference else "below"
        factor = f"{self.factor:.1f}" if self.factor < 1e6 else f"{self.factor:.3g}"
        return (
            f"{self.ts:%Y-%m-%dT%H:%MZ}: isolated one-bar spike, {self.column} "
            f"{self.value:.6g} is {factor}x {side} the neighbouring prices "
            f"({self.reference:.6g}); stored as published, check the source"
        )


def find_spikes(
    frame: pd.DataFrame,
    close_factor: float = CLOSE_SPIKE_FACTOR,
    wick_factor: float = WICK_SPIKE_FACTOR,
) -> list[Spike]:
    """Isolated one-bar spikes of a candle frame, in time order.

    Parameters
    ----------
    frame : pandas.DataFrame
        Shape ``(n, 6)``, a *validated* candle frame (sorted, positive prices).
    close_factor, wick_factor : float
        Thresholds (> 1), see the module docstring.

    Returns
    -------
    list[Spike]
        At most one spike per bar (a close spike hides a wick spike of the same bar).
    """
    if len(frame) < 3:
        return []
    o, h, lo, c = (frame[k].to_numpy(dtype="float64") for k in ("open", "high", "low", "close"))
    prev, mid, nxt = c[:-2], c[1:-1], c[2:]
    up = np.minimum(mid / prev, mid / nxt)
    down = np.minimum(prev / mid, nxt / mid)
    body_hi = np.maximum.reduce([o[1:-1], mid, prev, nxt])
    body_lo = np.minimum.reduce([o[1:-1], mid, prev, nxt])
    candidates = [
        ("close", up >= close_factor, mid, np.maximum(prev, nxt), up),
        ("close", down >= close_factor, mid, np.minimum(prev, nxt), down),
        ("high", h[1:-1] / body_hi >= wick_factor, h[1:-1], body_hi, h[1:-1] / body_hi),
        ("low", body_lo / lo[1:-1] >= wick_factor, lo[1:-1], body_lo, body_lo / lo[1:-1]),
    ]
    stamps = frame["timestamp"].iloc[1:-1].reset_index(drop=True)
    found: dict[int, Spike] = {}
    for column, mask, value, reference, factor in candidates:
        for i in np.flatnonzero(mask):
            found.setdefault(
                int(i),
                Spike(stamps.iloc[i], column, float(value[i]), float(reference[i]), float(factor[i])),
            )
    return [found[i] for i in sorted(found)]


def spike_warnings(frame: pd.DataFrame) -> list[str]:
    """Readable warnings for the spikes of ``frame``: up to :data:`MAX_SPIKE_WARNINGS` lines,
    then one line counting the rest; empty if there is none."""
    spikes = find_spikes(frame)
    lines = [s.describe() for s in spikes[:MAX_SPIKE_WARNINGS]]
    if len(spikes) > MAX_SPIKE_WARNINGS:
        lines.append(f"... and {len(spikes) - MAX_SPIKE_WARNINGS} more isolated one-bar spikes")
    return lines
