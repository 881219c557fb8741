"""What the generator needs from outside: a chat model for the ``llm`` source."""

from __future__ import annotations

from typing import Protocol


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
