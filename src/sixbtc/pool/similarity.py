"""Pool-entry correlation cap: one of two strategies that trade alike is kept (issue 9).

Near-duplicates (one rule with two take-profits, identical trades) fill a pool while its
fingerprint check only catches bit-identical results. A newcomer whose out-of-sample daily
returns correlate (Pearson, on the UTC days both series cover, at least ``min_overlap``
days) above ``active_pool.max_correlation`` with an ACTIVE member competes with it: the
better score stays. A newcomer that beats every member it correlates with evicts them
(``pool:correlated_evicted``); otherwise it is refused (``pool:correlated``, naming the
member). A member without a stored series never conflicts. The storage adapter applies
:func:`decide_correlated` inside the pool's entry transaction, so the decision is atomic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: (UTC day of the last value, days since 1970-01-01; daily returns oldest first, fractions).
Series = tuple[int, np.ndarray]


def correlation(a: Series, b: Series, min_overlap: int) -> float | None:
    """Pearson correlation of two daily series on their common days; None when fewer than
    ``min_overlap`` (>= 2) days overlap or a series is constant there."""
    (la, va), (lb, vb) = a, b
    va, vb = np.asarray(va, dtype=np.float64), np.asarray(vb, dtype=np.float64)
    lo, hi = max(la - va.size + 1, lb - vb.size + 1), min(la, lb)
    n = hi - lo + 1
    if n < max(2, min_overlap):
        return None
    x = va[lo - (la - va.size + 1):][:n]
    y = vb[lo - (lb - vb.size + 1):][:n]
    dx, dy = x - x.mean(), y - y.mean()
    denom = float(np.sqrt((dx @ dx) * (dy @ dy)))
    return None if denom <= 1e-18 else max(-1.0, min(1.0, float(dx @ dy) / denom))


@dataclass(frozen=True)
class CorrelatedDecision:
    """``evict`` member ids to retire (the newcomer is better), or ``blocker`` (member name,
    score, correlation) that refuses it; both empty/None: no conflict."""

    evict: tuple[int, ...] = ()
    blocker: tuple[str, float, float] | None = None

    def describe(self) -> str:
        """Readable reason of a refusal."""
        if self.blocker is None:
            return ""
        name, score, rho = self.blocker
        return f"OOS daily returns correlate {rho:.2f} with pool member {name} (score {score:.1f})"


def decide_correlated(score: float, candidate: Series | None,
                      members: Sequence[tuple[int, str, float, Series | None]], *, max_correlation: float,
                      min_overlap: int) -> CorrelatedDecision:
    """Apply the cap of the module notes.

    Parameters
    ----------
    score : float
        The newcomer's score (0-100).
    candidate : Series or None
        Its OOS daily returns; None never conflicts.
    members : sequence of (id, name, score, Series or None)
        The ACTIVE pool.
    max_correlation : float
        Correlation strictly above this conflicts; 1.0 switches the cap off.
    min_overlap : int
        Fewest common days for a correlation to count.

    Returns
    -------
    CorrelatedDecision
        Ties in score keep the member (the incumbent).
    """
    if candidate is None or max_correlation >= 1.0:
        return CorrelatedDecision()
    hits = [(mid, name, s, rho) for mid, name, s, series in members if series is not None
            and (rho := correlation(candidate, series, min_overlap)) is not None and rho > max_correlation]
    stronger = [h for h in hits if h[2] >= score]
    if stronger:
        mid, name, s, rho = max(stronger, key=lambda h: h[2])
        return CorrelatedDecision(blocker=(name, s, rho))
    return CorrelatedDecision(evict=tuple(h[0] for h in hits))
