"""claim_guard: what happens to a claimed strategy when its unit of work fails or is interrupted."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from sixbtc.adapters.storage.db import make_engine, migrate
from sixbtc.adapters.storage.strategy_repo import StrategyRepository
from sixbtc.app.factory_roles import claim_guard
from sixbtc.core.errors import ComputeUnavailable, StaleClaim
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType


@pytest.fixture
def repo(tmp_path: Path) -> StrategyRepository:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    repo = StrategyRepository(engine)
    repo.add(StrategyCandidate("Strategy_MOM_00000001", StrategyType.MOM, StrategySource.TEMPLATE, "code", "h1"))
    return repo


def _claim(repo: StrategyRepository):
    rec = repo.claim(StrategyStatus.GENERATED, "w1")
    assert rec is not None
    return SimpleNamespace(strategies=repo), rec


def test_unexpected_error_fails_the_strategy_not_the_worker(repo: StrategyRepository) -> None:
    c, rec = _claim(repo)
    with claim_guard(c, rec, "validator"):
        raise RuntimeError("boom")
    after = repo.get(rec.id)
    assert after.status is StrategyStatus.FAILED
    assert repo.events(1)[0]["reason"] == "error:RuntimeError"


def test_shutdown_releases_the_claim_and_propagates(repo: StrategyRepository) -> None:
    c, rec = _claim(repo)
    with pytest.raises(KeyboardInterrupt), claim_guard(c, rec, "backtest"):
        raise KeyboardInterrupt
    again = repo.claim(StrategyStatus.GENERATED, "w2")
    assert again is not None and again.id == rec.id and again.status is StrategyStatus.GENERATED


def test_stale_claim_is_dropped_silently(repo: StrategyRepository) -> None:
    c, rec = _claim(repo)
    with claim_guard(c, rec, "backtest"):
        raise StaleClaim("someone else owns it")
    assert repo.get(rec.id).status is StrategyStatus.GENERATED


def test_an_unreachable_compute_back_end_gives_the_claim_back(repo: StrategyRepository) -> None:
    """The Dask cluster's outage is not the strategy's fault: it waits for the next claim."""
    c, rec = _claim(repo)
    with pytest.raises(ComputeUnavailable), claim_guard(c, rec, "backtest"):
        raise ComputeUnavailable("Dask scheduler tcp://10.0.0.5:8786 unreachable")
    assert repo.get(rec.id).status is StrategyStatus.GENERATED
    again = repo.claim(StrategyStatus.GENERATED, "w2")  # released: another worker can claim it
    assert again is not None and again.id == rec.id
