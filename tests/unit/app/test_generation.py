"""The generator role breeds `generator.evolution_share` of a batch from the stored parents
(pool members and near-misses) and generates the rest; without parents, nothing is bred."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import select

from sixbtc.adapters.storage.tables import StrategyRow
from sixbtc.app.container import Container
from sixbtc.app.generation import generate_batch
from sixbtc.app.home import Home
from sixbtc.config import Settings
from sixbtc.config.sections import GeneratorSection
from sixbtc.domain.strategy import StrategyStatus
from sixbtc.generator.factory import candidate_of, make_genome


def _container(tmp_path: Path, share: float) -> Container:
    home = Home(tmp_path)
    home.ensure()
    return Container(home, Settings(generator=GeneratorSection(evolution_share=share)))


def _pool_member(c: Container) -> str:
    rng = np.random.default_rng(4)
    cand = candidate_of(make_genome("pattern", ("inside_bar_breakout", "adx", "time"), "short", rng), rng)
    c.strategies.add(cand)
    rec = c.strategies.claim(StrategyStatus.GENERATED, "test")
    c.strategies.transition(rec.id, rec.claim_token, StrategyStatus.VALIDATED, phase="validator", reason="test")
    rec = c.strategies.claim(StrategyStatus.VALIDATED, "test")
    c.strategies.transition(rec.id, rec.claim_token, StrategyStatus.ACTIVE, phase="pool", reason="test", score=55.0)
    return cand.name


def _lineages(c: Container) -> list[dict]:
    recs = c.strategies.list_by_status(StrategyStatus.GENERATED)
    with c.engine.connect() as conn:
        genomes = conn.execute(select(StrategyRow.genome).where(
            StrategyRow.id.in_([r.id for r in recs]))).scalars().all()
    return [g["lineage"] for g in genomes if "lineage" in g]


def test_a_share_of_the_batch_are_children_of_the_pool(tmp_path: Path) -> None:
    c = _container(tmp_path, 0.5)
    parent = _pool_member(c)
    created, _ = generate_batch(c, 10, np.random.default_rng(1))
    lineages = _lineages(c)
    assert created == 10 and len(lineages) == 5
    assert all(lin["parents"] == [parent] and lin["origins"] == ["pool"] for lin in lineages)


def test_nothing_is_bred_without_parents_or_with_a_zero_share(tmp_path: Path) -> None:
    c = _container(tmp_path / "a", 0.5)
    assert generate_batch(c, 6, np.random.default_rng(1))[0] == 6 and _lineages(c) == []
    c = _container(tmp_path / "b", 0.0)
    _pool_member(c)
    assert generate_batch(c, 6, np.random.default_rng(1))[0] == 6 and _lineages(c) == []
