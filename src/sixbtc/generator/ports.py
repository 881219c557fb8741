"""What the generator needs from the rest of the system (evolution parents)."""

from __future__ import annotations

from typing import Protocol

from sixbtc.generator.evolution import Parent


class ParentStore(Protocol):
    """Reads the genomes evolution may start from and keeps near-misses."""

    def evolution_parents(self) -> list[Parent]:
        """Pool members (ACTIVE, LIVE) and near-misses with a stored genome."""
        ...

    def keep_near_miss(self, strategy_id: int, reason: str, dsr: float) -> bool:
        """Keep a strategy's genome as a near-miss (``dsr`` a fraction) before its deletion."""
        ...
