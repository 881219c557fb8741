"""Anomalies of a valid candle frame: isolated one-bar price spikes and volume-only outliers.

A moderate spike (a real flash crash looks like a bad tick) is kept and reported. A spike of
:data:`QUARANTINE_FACTOR` (100×) or more is quarantined: reported, not stored
(:func:`screen_spikes`), so the series has a one-bar hole there that ``sixbtc data verify``
shows and ``fill-gaps`` asks the venue for again (judged against the stored neighbours, a
venue that still serves the bad tick sees the bar recorded as a known gap). The importer and
the downloader put one warning per anomaly in their results and the user decides.

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
which these rules report (and quarantine: both are far above 100×).

**Volume-only anomaly** (:func:`volume_warnings`, reported, stored): a bar whose volume is at
least :data:`VOLUME_SPIKE_FACTOR` times the median volume of the :data:`VOLUME_WINDOW` bars
centred on it while its price is no spike. Survey of the same data (3.77 M candles): 4 bars
reach 100× (XTZ, NEO, BCH 1h and BTC 1d, news days; the largest 184×), none of them an error
that could be told from the data alone, hence a report and never a rejection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from sixbtc.data.validation import MAX_EXAMPLES, CandleValidation, validate_candles

CLOSE_SPIKE_FACTOR = 3.0
"""A close at least this many times both neighbouring closes (or 1/this) is a spike."""

WICK_SPIKE_FACTOR = 10.0
"""A high (low) this many times above (below) the bar's body and both neighbours is a spike."""

QUARANTINE_FACTOR = 100.0
"""A spike of at least this factor is quarantined (reported, not stored)."""

VOLUME_SPIKE_FACTOR = 100.0
"""A volume this many times the rolling median volume (price not spiking) is reported."""

VOLUME_WINDOW = 49
"""Bars of the centred rolling median the volume is compared with (±24 bars)."""

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

    @property
    def quarantined(self) -> bool:
        """True when the spike is :data:`QUARANTINE_FACTOR` or more (not stored)."""
        return self.factor >= QUARANTINE_FACTOR

    def describe(self) -> str:
        """One line, e.g. ``"2024-01-01T20:00Z: close 10000 is 100.0x its neighbours ..."``."""
        side = "above" if self.value > self.reference else "below"
        factor = f"{self.factor:.1f}" if self.factor < 1e6 else f"{self.factor:.3g}"
        fate = ("quarantined (not stored; fill-gaps asks the venue again)" if self.quarantined
                else "stored as published, check the source")
        return (
            f"{self.ts:%Y-%m-%dT%H:%MZ}: isolated one-bar spike, {self.column} "
            f"{self.value:.6g} is {factor}x {side} the neighbouring prices "
            f"({self.reference:.6g}); {fate}"
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


def _capped(lines: list[str], what: str) -> list[str]:
    if len(lines) <= MAX_SPIKE_WARNINGS:
        return lines
    return [*lines[:MAX_SPIKE_WARNINGS], f"... and {len(lines) - MAX_SPIKE_WARNINGS} more {what}"]


def spike_warnings(frame: pd.DataFrame) -> list[str]:
    """Readable warnings for the spikes of ``frame``: up to :data:`MAX_SPIKE_WARNINGS` lines,
    then one line counting the rest; empty if there is none."""
    return _capped([s.describe() for s in find_spikes(frame)], "isolated one-bar spikes")


@dataclass(frozen=True)
class SpikeScreen:
    """A validated frame split into what is stored and what is quarantined.

    Attributes
    ----------
    kept : pandas.DataFrame
        Rows to store (moderate spikes included), same columns as the input.
    quarantined : pandas.DataFrame
        Rows of spikes >= :data:`QUARANTINE_FACTOR`, not stored.
    warnings : list[str]
        One line per spike (kept or quarantined) and per volume-only anomaly, capped.
    """

    kept: pd.DataFrame
    quarantined: pd.DataFrame
    warnings: list[str]


def screen_spikes(frame: pd.DataFrame, neighbours: pd.DataFrame | None = None) -> SpikeScreen:
    """Quarantine the >= 100× isolated spikes of ``frame`` and report every anomaly.

    Parameters
    ----------
    frame : pandas.DataFrame
        Shape ``(n, 6)``, a validated candle frame (the batch to store).
    neighbours : pandas.DataFrame or None
        Stored candles around the batch (e.g. both sides of a filled gap), used only to judge
        the batch's edge bars; never returned.

    Returns
    -------
    SpikeScreen
    """
    context = frame if neighbours is None or neighbours.empty else (
        pd.concat([neighbours, frame], ignore_index=True).sort_values("timestamp", kind="stable")
        .drop_duplicates("timestamp", keep="last").reset_index(drop=True))
    own = set(frame["timestamp"])
    spikes = [s for s in find_spikes(context) if s.ts in own]
    bad = {s.ts for s in spikes if s.quarantined}
    mask = frame["timestamp"].isin(bad).to_numpy()
    lines = _capped([s.describe() for s in spikes], "isolated one-bar spikes")
    lines += volume_warnings(context, only=own, skip=bad | {s.ts for s in spikes})
    return SpikeScreen(frame.loc[~mask].reset_index(drop=True), frame.loc[mask].reset_index(drop=True), lines)


def volume_warnings(frame: pd.DataFrame, only: set | None = None, skip: set | None = None) -> list[str]:
    """Volume-only anomalies of ``frame`` (see the module docstring), capped readable lines.

    Parameters
    ----------
    frame : pandas.DataFrame
        A validated candle frame.
    only, skip : set of pandas.Timestamp or None
        Report bars in ``only`` (None: all), never those in ``skip`` (price spikes).
    """
    if len(frame) < VOLUME_WINDOW // 4:
        return []
    volume = frame["volume"].astype("float64")
    median = volume.rolling(VOLUME_WINDOW, center=True, min_periods=VOLUME_WINDOW // 4).median()
    ratio = volume / median.where(median > 0)
    lines = []
    for i in np.flatnonzero((ratio >= VOLUME_SPIKE_FACTOR).to_numpy()):
        ts = frame["timestamp"].iloc[i]
        if (only is None or ts in only) and not (skip and ts in skip):
            lines.append(f"{ts:%Y-%m-%dT%H:%MZ}: volume {volume.iloc[i]:.6g} is {ratio.iloc[i]:.0f}x the median of "
                         f"the {VOLUME_WINDOW} bars around it, price unremarkable; stored, check the source")
    return _capped(lines, "volume-only anomalies")


def validate_and_screen(df: pd.DataFrame, timeframe: str, *, now: datetime | pd.Timestamp | None,
                        neighbours: pd.DataFrame | None = None) -> tuple[CandleValidation, list[str]]:
    """:func:`~sixbtc.data.validation.validate_candles`, then :func:`screen_spikes`: the one path
    of a downloaded, imported or gap-filling batch to the store.

    Parameters
    ----------
    df : pandas.DataFrame
        Raw candle batch (see ``validate_candles``).
    timeframe : str
        Timeframe value.
    now : datetime or pandas.Timestamp or None
        Current time (None: wall clock).
    neighbours : pandas.DataFrame or None
        Stored candles around the batch (judging its edge bars only).

    Returns
    -------
    (CandleValidation, list[str])
        ``valid`` without the quarantined spikes, which count as rejected under
        ``"spike_quarantined"`` (and are in ``rejected_rows``); the warnings of every anomaly.

    Raises
    ------
    DataError
        As ``validate_candles``.
    """
    checked = validate_candles(df, timeframe, now=now)
    screen = screen_spikes(checked.valid, neighbours)
    n = len(screen.quarantined)
    if not n:
        return checked, screen.warnings
    reasons = {**checked.reasons, "spike_quarantined": n}
    examples = (checked.examples + [f"{ts:%Y-%m-%dT%H:%MZ}: isolated one-bar spike >= {QUARANTINE_FACTOR:g}x, quarantined"
                                    for ts in screen.quarantined["timestamp"]])[:MAX_EXAMPLES]
    rows = pd.concat([checked.rejected_rows, screen.quarantined.assign(reason="spike_quarantined")], ignore_index=True)
    return CandleValidation(screen.kept, checked.rejected + n, reasons, examples, rows), screen.warnings
