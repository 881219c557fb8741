"""What the generator needs from outside: evolution parents and a chat model for the ``llm`` source."""

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


class LLMClient(Protocol):
    """A language model answering one system + user message pair (OpenAI-compatible chat).

    Implemented by :class:`sixbtc.adapters.llm.openai_chat.OpenAIChatClient`; app/ wires it.
    """

    model: str

    def complete(self, system: str, user: str) -> str:
        """Return the model's answer as text.

        Raises
        ------
        SourceUnavailable
            When the model cannot be reached or answers unusably (timeout, HTTP error,
            malformed response); the reason names which.
        """
        ...
