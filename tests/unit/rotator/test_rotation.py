"""Filling free LIVE slots from the pool with diversification caps (SPEC §3.6)."""

from __future__ import annotations

from datetime import date

import numpy as np

from sixbtc.config.sections import RotatorSection
from sixbtc.core.errors import StaleClaim
from sixbtc.domain.strategy import StrategyRecord, StrategySource, StrategyStatus, StrategyType
from sixbtc.rotator.correlation import DailyReturns
from sixbtc.rotator.rotation import Promotion, rotate, select_for_live

T = StrategyType


CONFIRMED = {"confirm": {"total_return": 0.01, "twin_percentile": 80.0}}


def _rec(sid: int, score: float | None, type_: StrategyType = T.MOM, tf: str = "1h",
         status: StrategyStatus = StrategyStatus.ACTIVE, metrics: dict | None = None) -> StrategyRecord:
    """A pool member whose confirmation passed unless ``metrics`` says otherwise."""
    return StrategyRecord(id=sid, name=f"Strategy_{type_}_{sid:04d}", type=type_, source=StrategySource.TEMPLATE,
                          status=status, code="", code_hash=f"h{sid}", timeframe=tf, score=score,
                          metrics=CONFIRMED if metrics is None else metrics)


def _live(sid: int, type_: StrategyType = T.MOM, tf: str = "1h") -> StrategyRecord:
    return _rec(sid, 80.0, type_, tf, StrategyStatus.LIVE)


def _cfg(**kw: float) -> RotatorSection:
    base = {"max_live_strategies": 10, "min_score_live": 50.0, "max_per_type": 10, "max_per_timeframe": 10}
    return RotatorSection(**{**base, **kw})


def _ids(recs: list[StrategyRecord]) -> list[int]:
    return [r.id for r in recs]


# -- select_for_live -------------------------------------------------------------------------
def test_confirmation_is_required_by_default() -> None:
    pool = [_rec(1, 90.0, metrics={}), _rec(2, 85.0, metrics={"confirm": {"total_return": -0.02,
                                                                         "twin_percentile": 90.0}}),
            _rec(3, 80.0, metrics={"confirm": {"total_return": 0.05, "twin_percentile": 30.0}}),
            _rec(4, 75.0, metrics={"confirm": {"total_return": 0.05, "twin_percentile": None}}),
            _rec(5, 70.0)]
    assert _ids(select_for_live(pool, [], _cfg())) == [4, 5]
    assert _ids(select_for_live(pool, [], _cfg(min_confirm_percentile=20.0))) == [3, 4, 5]
    assert _ids(select_for_live(pool, [], _cfg(require_confirmation=False))) == [1, 2, 3, 4, 5]


def test_orders_by_score_best_first_whatever_the_input_order() -> None:
    pool = [_rec(1, 60.0, T.MOM), _rec(2, 90.0, T.REV), _rec(3, 75.0, T.TRN)]
    assert _ids(select_for_live(pool, [], _cfg())) == [2, 3, 1]


def test_equal_scores_are_ordered_by_id() -> None:
    pool = [_rec(9, 70.0, T.MOM), _rec(4, 70.0, T.REV)]
    assert _ids(select_for_live(pool, [], _cfg())) == [4, 9]


def test_min_score_live_is_inclusive() -> None:
    pool = [_rec(1, 50.0, T.MOM), _rec(2, 49.99, T.REV), _rec(3, None, T.TRN)]
    assert _ids(select_for_live(pool, [], _cfg(min_score_live=50.0))) == [1]


def test_max_live_counts_strategies_already_live() -> None:
    pool = [_rec(i, 90.0 - i, list(T)[i % 6], "4h") for i in range(1, 6)]
    live = [_live(100 + i, T.GRD, "15m") for i in range(8)]
    chosen = select_for_live(pool, live, _cfg(max_live_strategies=10))
    assert _ids(chosen) == [1, 2]


def test_no_free_slot_selects_nothing() -> None:
    pool = [_rec(1, 99.0)]
    live = [_live(100 + i, list(T)[i % 6], f"tf{i}") for i in range(3)]
    assert select_for_live(pool, live, _cfg(max_live_strategies=3)) == []
    assert select_for_live(pool, live, _cfg(max_live_strategies=2)) == []  # over-full: still nothing


def test_per_type_cap_skips_to_the_next_type() -> None:
    pool = [_rec(1, 95.0, T.MOM, "15m"), _rec(2, 90.0, T.MOM, "30m"), _rec(3, 85.0, T.MOM, "1h"),
            _rec(4, 80.0, T.REV, "4h")]
    assert _ids(select_for_live(pool, [], _cfg(max_per_type=2))) == [1, 2, 4]


def test_per_type_cap_counts_live_strategies() -> None:
    pool = [_rec(1, 95.0, T.MOM, "15m"), _rec(2, 90.0, T.BRK, "30m")]
    live = [_live(100, T.MOM, "4h"), _live(101, T.MOM, "1d")]
    assert _ids(select_for_live(pool, live, _cfg(max_per_type=2))) == [2]


def test_per_timeframe_cap_skips_to_the_next_timeframe() -> None:
    pool = [_rec(1, 95.0, T.MOM, "1h"), _rec(2, 90.0, T.REV, "1h"), _rec(3, 85.0, T.TRN, "1h"),
            _rec(4, 80.0, T.BRK, "4h")]
    assert _ids(select_for_live(pool, [], _cfg(max_per_timeframe=2))) == [1, 2, 4]


def test_per_timeframe_cap_counts_live_strategies() -> None:
    pool = [_rec(1, 95.0, T.MOM, "1h"), _rec(2, 90.0, T.REV, "15m")]
    live = [_live(100, T.VOL, "1h"), _live(101, T.GRD, "1h"), _live(102, T.TRN, "1h")]
    assert _ids(select_for_live(pool, live, _cfg(max_per_timeframe=3))) == [2]


def test_default_caps_of_the_spec() -> None:
    # 10 slots, 3 per type, 3 per timeframe; 16 candidates: types cycle MOM REV TRN BRK,
    # timeframes change every 4. Walk: 0-2 (15m full, 3 skipped), 4-6 (30m full, 7 skipped),
    # 8-10 (MOM REV TRN now at 3, 1h full, 11 skipped), 12-14 skipped by type, 15 BRK 4h.
    tfs = ["15m", "30m", "1h", "4h"]
    pool = [_rec(i, 99.0 - i, [T.MOM, T.REV, T.TRN, T.BRK][i % 4], tfs[i // 4]) for i in range(16)]
    chosen = select_for_live(pool, [], RotatorSection())
    assert _ids(chosen) == [0, 1, 2, 4, 5, 6, 8, 9, 10, 15]
    assert len(chosen) <= 10
    for key in ("type", "timeframe"):
        counts: dict[object, int] = {}
        for r in chosen:
            counts[getattr(r, key)] = counts.get(getattr(r, key), 0) + 1
        assert max(counts.values()) <= 3
    scores = [r.score for r in chosen]
    assert scores == sorted(scores, reverse=True)


# -- rotate ------------------------------------------------------------------------------------
class FakeRotationStore:
    """In-memory :class:`~sixbtc.rotator.ports.RotationStore`."""

    def __init__(self, pool: list[StrategyRecord], live: list[StrategyRecord], stale: set[int] = frozenset(),
                 returns: dict[int, DailyReturns] | None = None):
        self._pool, self._live, self._stale = list(pool), list(live), set(stale)
        self._returns = returns or {}
        self.reasons: dict[int, str] = {}
        self.asked: list[list[int]] = []

    def daily_returns(self, strategy_ids: list[int]) -> dict[int, DailyReturns | None]:
        self.asked.append(list(strategy_ids))
        return {sid: self._returns.get(sid) for sid in strategy_ids}

    def live(self) -> list[StrategyRecord]:
        return list(self._live)

    def pool_by_score(self) -> list[StrategyRecord]:
        return sorted(self._pool, key=lambda s: -(s.score or 0.0))

    def promote(self, strategy: StrategyRecord, reason: str) -> str:
        if strategy.id in self._stale:
            raise StaleClaim(f"strategy {strategy.id} changed")
        self._pool.remove(strategy)
        self._live.append(strategy)
        self.reasons[strategy.id] = reason
        return f"paper-{len(self._live):03d}"


def test_rotate_promotes_and_reports_subaccounts() -> None:
    store = FakeRotationStore([_rec(1, 70.0, T.MOM), _rec(2, 88.0, T.REV), _rec(3, 40.0, T.TRN)], [])
    promos = rotate(store, _cfg())
    assert promos == [Promotion(2, "Strategy_REV_0002", 88.0, "paper-001"),
                      Promotion(1, "Strategy_MOM_0001", 70.0, "paper-002")]
    assert _ids(store.live()) == [2, 1]
    assert "88.0" in store.reasons[2] and "50.0" in store.reasons[2]


def test_rotate_skips_a_stale_candidate() -> None:
    store = FakeRotationStore([_rec(1, 90.0, T.MOM), _rec(2, 80.0, T.REV), _rec(3, 70.0, T.TRN)], [], stale={2})
    promos = rotate(store, _cfg())
    assert [p.strategy_id for p in promos] == [1, 3]
    assert _ids(store.live()) == [1, 3]
    assert 2 in _ids(store.pool_by_score())


def test_rotate_with_full_live_set_does_nothing() -> None:
    store = FakeRotationStore([_rec(1, 99.0)], [_live(100, T.REV, "4h")])
    assert rotate(store, _cfg(max_live_strategies=1)) == []
    assert _ids(store.live()) == [100]


def test_second_rotation_fills_nothing_more() -> None:
    store = FakeRotationStore([_rec(i, 60.0 + i, T.MOM, f"tf{i}") for i in range(5)], [])
    first = rotate(store, _cfg(max_live_strategies=3))
    assert [p.strategy_id for p in first] == [4, 3, 2]
    assert rotate(store, _cfg(max_live_strategies=3)) == []


# -- correlation cap ---------------------------------------------------------------------------
DAY = date(2026, 3, 31)
BASE = np.random.default_rng(7).normal(0.0, 0.01, 60)


def _series(values: np.ndarray) -> DailyReturns:
    return DailyReturns(DAY, values)


def test_correlated_candidate_is_skipped_for_the_next_one() -> None:
    live = [_live(100, T.REV, "4h")]
    pool = [_rec(1, 90.0, T.MOM, "1h"), _rec(2, 80.0, T.TRN, "15m")]
    returns = {100: _series(BASE), 1: _series(BASE * 2.0 + 0.001), 2: _series(np.roll(BASE, 17))}
    assert _ids(select_for_live(pool, live, _cfg(max_correlation=0.7), returns)) == [2]


def test_correlation_among_the_chosen_counts_too() -> None:
    pool = [_rec(1, 90.0, T.MOM), _rec(2, 80.0, T.TRN), _rec(3, 70.0, T.REV)]
    returns = {1: _series(BASE), 2: _series(-BASE + 0.0), 3: _series(BASE + 1e-4)}
    # 2 is perfectly anti-correlated with 1 (allowed: diversifying); 3 copies 1.
    assert _ids(select_for_live(pool, [], _cfg(max_correlation=0.7), returns)) == [1, 2]


def test_strategies_without_series_are_not_blocked() -> None:
    pool = [_rec(1, 90.0, T.MOM), _rec(2, 80.0, T.TRN)]
    assert _ids(select_for_live(pool, [_live(100)], _cfg(), {100: _series(BASE), 2: None})) == [1, 2]


def test_max_correlation_one_disables_the_cap_and_skips_the_lookup() -> None:
    store = FakeRotationStore([_rec(1, 90.0, T.MOM), _rec(2, 80.0, T.TRN)], [],
                              returns={1: _series(BASE), 2: _series(BASE)})
    assert [p.strategy_id for p in rotate(store, _cfg(max_correlation=1.0))] == [1, 2]
    assert store.asked == []


def test_rotate_fetches_series_of_live_and_eligible_only() -> None:
    store = FakeRotationStore([_rec(1, 90.0, T.MOM), _rec(2, 80.0, T.TRN), _rec(3, 10.0, T.REV)],
                              [_live(100, T.GRD, "4h")],
                              returns={100: _series(BASE), 1: _series(BASE * 3.0), 2: _series(np.roll(BASE, 5))})
    assert [p.strategy_id for p in rotate(store, _cfg())] == [2]
    assert store.asked == [[100, 1, 2]]


class RecordingStore(FakeRotationStore):
    """Records :meth:`failed` events."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.events: list[tuple[int, str]] = []

    def failed(self, strategy: StrategyRecord, detail: str) -> None:
        self.events.append((strategy.id, detail))


def test_grid_strategies_are_never_promoted_and_the_reason_is_recorded() -> None:
    pool = [_rec(1, 95.0, T.GRD), _rec(2, 70.0, T.MOM), _rec(3, 30.0, T.GRD)]
    assert _ids(select_for_live(pool, [], _cfg())) == [2]
    store = RecordingStore(pool, [])
    assert [p.strategy_id for p in rotate(store, _cfg())] == [2]
    assert store.events == [(1, "rotator: GRD not supported by the executor yet")]  # 3 is below min_score_live
    full = RecordingStore([_rec(1, 95.0, T.GRD)], [_live(100)])
    assert rotate(full, _cfg(max_live_strategies=1)) == [] and full.events == []  # no free slot: nothing to say


def test_strategies_whose_coins_all_fell_out_of_the_universe_stay_out_of_live() -> None:
    from dataclasses import replace

    pool = [replace(_rec(1, 95.0), symbols=("XRP", "DOGE")), replace(_rec(2, 90.0), symbols=("DOGE", "BTC")),
            replace(_rec(3, 85.0), symbols=())]
    assert _ids(select_for_live(pool, [], _cfg(), tradable={"BTC", "ETH"})) == [2, 3]
    assert _ids(select_for_live(pool, [], _cfg(), tradable=None)) == [1, 2, 3]
    assert _ids(select_for_live(pool, [], _cfg(), tradable=set())) == [1, 2, 3]  # no universe known yet
    store = RecordingStore(pool, [])
    promoted = rotate(store, _cfg(), tradable={"BTC"})
    assert [p.strategy_id for p in promoted] == [2, 3]
    assert store.events == [(1, "rotator: none of its coins is tradable now (XRP, DOGE inactive)")]
