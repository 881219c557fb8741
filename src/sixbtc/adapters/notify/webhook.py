"""Generic webhook channel: each alert is ``POST``ed as JSON ``{kind, key, severity, text}``
(httpx); a 2xx answer counts as sent."""

from __future__ import annotations

import httpx


class WebhookChannel:
    """POST alerts to ``url`` (``notify.webhook_url``) with ``timeout_s``; ``transport`` for tests."""

    name = "webhook"

    def __init__(self, url: str, timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self._client = httpx.Client(timeout=timeout_s, transport=transport)
        self.last_error: str | None = None

    def send(self, kind: str, key: str, severity: str, text: str) -> bool:
        """POST one alert; True on a 2xx answer."""
        try:
            r = self._client.post(self.url, json={"kind": kind, "key": key, "severity": severity, "text": text})
        except httpx.HTTPError as exc:
            self.last_error = f"webhook: {type(exc).__name__}"
            return False
        self.last_error = None if r.is_success else f"webhook: HTTP {r.status_code}"
        return r.is_success

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
