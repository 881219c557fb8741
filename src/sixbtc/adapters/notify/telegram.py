"""Telegram Bot API channel: ``sendMessage`` for alerts, ``getUpdates`` for commands (httpx).

The token is part of every URL, so no URL is ever logged or put in an error message here;
failures are reported by method and HTTP status only. Source: core.telegram.org/bots/api.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

#: Telegram's longest message text (characters).
MAX_TEXT = 4096


@dataclass(frozen=True)
class Command:
    """A message received by the bot: ``update_id``, ``chat_id`` and ``text``."""

    update_id: int
    chat_id: str
    text: str


class TelegramChannel:
    """Send alerts to ``chat_id`` and read the bot's new messages.

    Parameters
    ----------
    api_url : str
        API root (``https://api.telegram.org``; a local fake in tests).
    token : SecretStr
        Bot token.
    chat_id : str
        Chat the alerts go to.
    timeout_s : float
        HTTP timeout of one request (s).
    transport : httpx.BaseTransport or None
        Injected transport (tests); None = the network.
    """

    name = "telegram"

    def __init__(self, api_url: str, token: SecretStr, chat_id: str, timeout_s: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.chat_id = chat_id
        self._base = f"{api_url.rstrip('/')}/bot{token.get_secret_value()}"
        self._client = httpx.Client(timeout=timeout_s, transport=transport)
        self.last_error: str | None = None

    def _call(self, method: str, body: dict[str, Any]) -> Any | None:
        try:
            r = self._client.post(f"{self._base}/{method}", json=body)
            payload = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        except (httpx.HTTPError, ValueError) as exc:
            self.last_error = f"telegram {method}: {type(exc).__name__}"
            return None
        if r.status_code != 200 or not payload.get("ok"):
            self.last_error = f"telegram {method}: HTTP {r.status_code} {str(payload.get('description', ''))[:200]}"
            return None
        self.last_error = None
        return payload.get("result")

    def send(self, kind: str, key: str, severity: str, text: str) -> bool:
        """Send ``text`` to the chat; True when Telegram accepted it."""
        del kind, key
        return self._call("sendMessage", {"chat_id": self.chat_id, "text": f"[{severity}] {text}"[:MAX_TEXT]}) is not None

    def reply(self, chat_id: str, text: str) -> bool:
        """Send ``text`` to ``chat_id`` (answer to a command)."""
        return self._call("sendMessage", {"chat_id": chat_id, "text": text[:MAX_TEXT]}) is not None

    def updates(self, offset: int | None) -> list[Command]:
        """New text messages from ``offset`` on (confirming the ones before it); [] on failure."""
        result = self._call("getUpdates", {"offset": offset, "timeout": 0, "allowed_updates": ["message"]}) or []
        out = []
        for u in result:
            msg = u.get("message") or {}
            if "text" in msg and "chat" in msg:
                out.append(Command(int(u["update_id"]), str(msg["chat"]["id"]), str(msg["text"])))
            else:
                out.append(Command(int(u["update_id"]), "", ""))
        return out

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
