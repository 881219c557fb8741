"""An OpenAI-compatible chat-completions client over httpx (the ``llm`` strategy source).

``POST {base_url}/chat/completions`` with ``{"model", "messages", "max_tokens",
"temperature"}`` and ``Authorization: Bearer <key>``; the answer's
``choices[0].message.content`` is returned. The same wire format is served by OpenAI, vLLM,
llama.cpp's server, Ollama (``/v1``), LM Studio and most hosted gateways.

Every failure leaves as :class:`~sixbtc.core.errors.SourceUnavailable` with a short reason
(``llm:timeout``, ``llm:unreachable``, ``llm:auth``, ``llm:rate_limited``, ``llm:http_<code>``,
``llm:malformed_response``) and a detail that never contains the API key.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import SecretStr

from sixbtc.core.errors import ConfigError, SourceUnavailable

#: Characters of a failing response body quoted in an error detail.
BODY_EXCERPT = 200


class OpenAIChatClient:
    """One chat completion per :meth:`complete` call.

    Parameters
    ----------
    base_url : str
        API root, e.g. ``https://api.openai.com/v1`` or ``http://127.0.0.1:8000/v1``.
    model : str
        Model name sent with each request.
    api_key : SecretStr or None
        Bearer token; None sends no ``Authorization`` header (local servers).
    timeout_s : float
        Seconds for connect, read and write of one request.
    max_tokens : int
        Upper bound of the answer's tokens.
    temperature : float
        Sampling temperature (0-2).
    transport : httpx.BaseTransport, optional
        Injected transport (tests); default: the network.

    Raises
    ------
    ConfigError
        If ``base_url`` is not an http(s) URL (names ``llm.base_url``).
    """

    def __init__(self, base_url: str, model: str, api_key: SecretStr | None, *, timeout_s: float = 60.0,
                 max_tokens: int = 2000, temperature: float = 0.8,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"llm.base_url: must be an http:// or https:// URL, got {base_url!r}")
        headers = {"Content-Type": "application/json"}
        if api_key is not None and api_key.get_secret_value():
            headers["Authorization"] = f"Bearer {api_key.get_secret_value()}"
        self.model, self.max_tokens, self.temperature = model, max_tokens, temperature
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._http = httpx.Client(headers=headers, timeout=timeout_s, transport=transport)

    def __repr__(self) -> str:  # never shows the headers (the key)
        return f"OpenAIChatClient(url={self._url!r}, model={self.model!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def complete(self, system: str, user: str) -> str:
        """Send one system + user message pair; return the answer's text.

        Raises
        ------
        SourceUnavailable
            On a timeout, an unreachable server, an HTTP error status or an answer that is
            not the chat-completions JSON (reason names which).
        """
        body = {"model": self.model, "max_tokens": self.max_tokens, "temperature": self.temperature,
                "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}]}
        try:
            response = self._http.post(self._url, json=body)
        except httpx.TimeoutException as exc:
            raise SourceUnavailable("llm:timeout", f"no answer from {self._url} within the timeout "
                                    "(llm.timeout_s)") from exc
        except httpx.HTTPError as exc:
            raise SourceUnavailable("llm:unreachable", f"{self._url}: {type(exc).__name__}") from exc
        _check_status(response, self._url)
        return _content(response)


def _check_status(response: httpx.Response, url: str) -> None:
    code = response.status_code
    if code < 400:
        return
    excerpt = response.text[:BODY_EXCERPT].replace("\n", " ")
    if code in (401, 403):
        raise SourceUnavailable("llm:auth", f"HTTP {code} from {url}: the API key is missing or refused "
                                f"(set SIXBTC__LLM__API_KEY); server said: {excerpt}")
    if code == 429:
        raise SourceUnavailable("llm:rate_limited", f"HTTP 429 from {url}: rate limit or quota; server said: {excerpt}")
    raise SourceUnavailable(f"llm:http_{code}", f"HTTP {code} from {url}; server said: {excerpt}")


def _content(response: httpx.Response) -> str:
    try:
        payload: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceUnavailable("llm:malformed_response",
                                f"the answer is not JSON: {response.text[:BODY_EXCERPT]!r}") from exc
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise SourceUnavailable("llm:malformed_response",
                                "the answer has no choices[0].message.content") from exc
    if not isinstance(content, str) or not content.strip():
        raise SourceUnavailable("llm:malformed_response", "choices[0].message.content is empty or not text")
    return content
