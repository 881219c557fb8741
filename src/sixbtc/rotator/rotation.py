"""Selection of strategies for free LIVE slots, with diversification caps (SPEC §3.6).

Grid strategies (type ``GRD``) are never promoted: the executor places one entry with one
stop and target per signal, not a grid of limit levels, so a GRD strategy would not trade as
it was backtested. They stay ACTIVE (scored, in the pool); each rotation that would otherwise
consider one records the event ``rotator: GRD not supported by the executor yet`` on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sixbtc.config.sections import RotatorSection
from sixbtc.core.errors import StaleClaim
from sixbtc.domain.strategy import StrategyRecord, StrategyType
from sixbtc.rotator.correlation import DailyReturns, first_conflict
from sixbtc.rotator.ports import RotationStore

#: Types the executor cannot trade yet, with the reason recorded when the rotator skips one.
NOT_EXECUTABLE: dict[StrategyType, str] = {StrategyType.GRD: "rotator: GRD not supported by the executor yet"}


@dataclass(frozen=True)
class Promotion:
    """One strategy promoted to LIVE, on ``subaccount``."""

    strategy_id: int
    name: str
    score: float
    subaccount: str


def confirmation_gap(metrics: Mapping[str, object] | None, cfg: RotatorSection) -> str | None:
    """Why a candidate's confirmation result (``metrics["confirm"]``, see
    :mod:`sixbtc.backtester.confirmation`) keeps it out of LIVE, or None.

    Always None when ``cfg.require_confirmation`` is off. Otherwise: no result (no
    confirmation window, or a strategy admitted before it existed), a return that is
    missing or <= 0, or a twin percentile below ``cfg.min_confirm_percentile`` (a result
    without twins is judged on its return alone).
    """
    if not cfg.require_confirmation:
        return None
    conf = (metrics or {}).get("confirm")
    if not isinstance(conf, Mapping):
        return "no confirmation result"
    ret, pct = conf.get("total_return"), conf.get("twin_percentile")
    if not isinstance(ret, int | float) or ret <= 0:
        return f"confirmation return {ret} <= 0"
    if isinstance(pct, int | float) and pct < cfg.min_confirm_percentile:
        return f"confirmation twin percentile {pct:.0f} < {cfg.min_confirm_percentile:.0f}"
    return None


def untradable(strategy: StrategyRecord, tradable: Collection[str] | None) -> str | None:
    """Why ``strategy`` may not open new positions, or None: none of its coins is in the
    current universe (``tradable``: active coins of the coin registry; None or empty: no
    universe known yet, nothing is blocked; a strategy without coins is not blocked)."""
    if not tradable or not strategy.symbols or any(s in tradable for s in strategy.symbols):
        return None
    return f"rotator: none of its coins is tradable now ({', '.join(strategy.symbols[:5])} inactive)"


def select_for_live(pool: list[StrategyRecord], live: list[StrategyRecord], cfg: RotatorSection,
                    returns: Mapping[int, DailyReturns | None] | None = None,
                    tradable: Collection[str] | None = None) -> list[StrategyRecord]:
    """Pick strategies for the free LIVE slots.

    Walks ``pool`` best score first and takes a strategy when its score is at least
    ``min_score_live``, adding it keeps at most ``max_per_type`` LIVE strategies per type and
    ``max_per_timeframe`` per assigned timeframe, its type is executable (not in
    :data:`NOT_EXECUTABLE`), and its out-of-sample daily returns correlate
    at most ``max_correlation`` with every LIVE and already chosen strategy (see
    :mod:`sixbtc.rotator.correlation`), and its confirmation result passes
    (:func:`confirmation_gap`), and at least one of its coins is ``tradable``
    (:func:`untradable`), until ``max_live_strategies`` are LIVE.

    Parameters
    ----------
    pool : list of StrategyRecord
        ACTIVE strategies (any order; sorted here by score, then id).
    live : list of StrategyRecord
        Strategies already LIVE (they count against every cap).
    cfg : RotatorSection
    returns : mapping of strategy id to DailyReturns or None, optional
        Out-of-sample daily returns of pool and LIVE strategies. A strategy without a series
        (missing key or None) is never blocked by, and never blocks, the correlation cap.
    tradable : collection of str, optional
        Active coins of the coin registry (most liquid first); None: no filter.

    Returns
    -------
    list of StrategyRecord
        The chosen strategies, best first.
    """
    series = returns or {}
    free = cfg.max_live_strategies - len(live)
    by_type = Counter(s.type for s in live)
    by_tf = Counter(s.timeframe for s in live)
    peers = [s.id for s in live]
    chosen: list[StrategyRecord] = []
    for cand in sorted(pool, key=lambda s: (-(s.score or 0.0), s.id)):
        if len(chosen) >= free:
            break
        if cand.score is None or cand.score < cfg.min_score_live:
            break
        if cand.type in NOT_EXECUTABLE or untradable(cand, tradable) is not None:
            continue
        if by_type[cand.type] >= cfg.max_per_type or by_tf[cand.timeframe] >= cfg.max_per_timeframe:
            continue
        if confirmation_gap(cand.metrics, cfg) is not None:
            continue
        if first_conflict(series.get(cand.id), ((p, series.get(p)) for p in peers),
                          cfg.max_correlation, cfg.min_overlap_days) is not None:
            continue
        chosen.append(cand)
        peers.append(cand.id)
        by_type[cand.type] += 1
        by_tf[cand.timeframe] += 1
    return chosen


def _returns(store: RotationStore, cfg: RotatorSection, pool: list[StrategyRecord],
             live: list[StrategyRecord]) -> dict[int, DailyReturns | None]:
    """Daily returns for the correlation cap: only when it is on and a slot is free."""
    if cfg.max_correlation < 1.0 and len(live) < cfg.max_live_strategies and pool:
        eligible = [s.id for s in pool if s.score is not None and s.score >= cfg.min_score_live]
        return store.daily_returns([s.id for s in live] + eligible) if eligible else {}
    return {}


def plan_rotation(store: RotationStore, cfg: RotatorSection,
                  tradable: Collection[str] | None = None) -> list[StrategyRecord]:
    """What :func:`rotate` would promote now, best first, without writing anything
    (``sixbtc rotate --dry-run``)."""
    pool, live = store.pool_by_score(), store.live()
    return select_for_live(pool, live, cfg, _returns(store, cfg, pool, live), tradable)


def rotate(store: RotationStore, cfg: RotatorSection, tradable: Collection[str] | None = None) -> list[Promotion]:
    """Fill free LIVE slots now; a candidate that changed meanwhile is skipped, not an error.

    A candidate whose promotion fails in any other way is skipped too and the error recorded
    (:meth:`RotationStore.failed`): one bad candidate never stops the rotation. Daily returns
    are fetched only when the correlation cap is on (``max_correlation`` < 1) and a slot is free.
    ``tradable`` (active coins) keeps strategies whose coins all fell out of the universe
    out of LIVE; each such candidate gets the reason recorded once.
    """
    pool, live = store.pool_by_score(), store.live()
    returns = _returns(store, cfg, pool, live)
    if len(live) < cfg.max_live_strategies:
        for cand in pool:
            if cand.score is None or cand.score < cfg.min_score_live:
                continue
            why = NOT_EXECUTABLE.get(cand.type) or untradable(cand, tradable)
            if why is not None:
                store.failed(cand, why)
    promotions = []
    for cand in select_for_live(pool, live, cfg, returns, tradable):
        try:
            label = store.promote(cand, reason=f"rotator: score {cand.score:.1f} >= {cfg.min_score_live:.1f}")
        except StaleClaim:
            continue
        except Exception as exc:  # noqa: BLE001 — this candidate is skipped, the others are promoted
            store.failed(cand, f"promotion failed: {type(exc).__name__}: {exc}")
            continue
        promotions.append(Promotion(cand.id, cand.name, float(cand.score or 0.0), label))
    return promotions
