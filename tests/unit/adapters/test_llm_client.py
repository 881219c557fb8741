"""The OpenAI-compatible client against a local fake server (real HTTP, real httpx):
answers, and every failure translated to ``SourceUnavailable`` without the API key."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from sixbtc.adapters.llm.openai_chat import OpenAIChatClient
from sixbtc.core.errors import ConfigError, SourceUnavailable
from sixbtc.testing.fake_llm import FakeLLMServer, Reply

KEY = "sk-test-0123456789-secret"


@pytest.fixture
def server():
    with FakeLLMServer() as s:
        yield s


def _client(server: FakeLLMServer, timeout_s: float = 5.0) -> OpenAIChatClient:
    return OpenAIChatClient(server.base_url, "fake-model", SecretStr(KEY), timeout_s=timeout_s,
                            max_tokens=321, temperature=0.5)


def test_answer_text_and_the_request_sent(server):
    server.reply(Reply.chat("hello"))
    assert _client(server).complete("sys text", "user text") == "hello"
    (req,) = server.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["Authorization"] == f"Bearer {KEY}"
    assert req.body == {"model": "fake-model", "max_tokens": 321, "temperature": 0.5,
                        "messages": [{"role": "system", "content": "sys text"},
                                     {"role": "user", "content": "user text"}]}


def test_no_key_sends_no_authorization_header(server):
    server.reply(Reply.chat("ok"))
    OpenAIChatClient(server.base_url, "m", None).complete("s", "u")
    assert "Authorization" not in server.requests[0].headers


@pytest.mark.parametrize(("reply", "reason"), [
    (Reply.error(500, "boom"), "llm:http_500"),
    (Reply.error(503), "llm:http_503"),
    (Reply.error(401, "invalid api key"), "llm:auth"),
    (Reply.error(403), "llm:auth"),
    (Reply.error(429), "llm:rate_limited"),
    (Reply.error(400, "bad model"), "llm:http_400"),
    (Reply(200, b"<html>not json</html>"), "llm:malformed_response"),
    (Reply(200, json.dumps({"choices": []}).encode()), "llm:malformed_response"),
    (Reply(200, json.dumps({"choices": [{"message": {"content": None}}]}).encode()), "llm:malformed_response"),
])
def test_failures_are_translated_and_never_show_the_key(server, reply, reason):
    server.reply(reply)
    client = _client(server)
    with pytest.raises(SourceUnavailable) as info:
        client.complete("s", "u")
    assert info.value.reason == reason
    assert KEY not in str(info.value) and KEY not in repr(client)


def test_auth_error_names_the_environment_variable(server):
    server.reply(Reply.error(401, "invalid api key"))
    with pytest.raises(SourceUnavailable, match="SIXBTC__LLM__API_KEY.*invalid api key"):
        _client(server).complete("s", "u")


def test_timeout(server):
    server.reply(Reply.chat("late", delay_s=1.5))
    with pytest.raises(SourceUnavailable) as info:
        _client(server, timeout_s=0.3).complete("s", "u")
    assert info.value.reason == "llm:timeout" and "llm.timeout_s" in str(info.value)


def test_unreachable_server():
    with FakeLLMServer() as gone:
        url = gone.base_url
    with pytest.raises(SourceUnavailable) as info:
        OpenAIChatClient(url, "m", None, timeout_s=2).complete("s", "u")
    assert info.value.reason == "llm:unreachable"


def test_bad_base_url_is_a_config_error():
    with pytest.raises(ConfigError, match="llm.base_url"):
        OpenAIChatClient("ftp://x", "m", None)


def test_the_key_comes_from_the_environment_as_a_secret(monkeypatch, tmp_path):
    from sixbtc.config import load_settings

    monkeypatch.setenv("SIXBTC__LLM__API_KEY", KEY)
    settings = load_settings(tmp_path / "absent.yaml")
    assert settings.llm.api_key.get_secret_value() == KEY
    assert KEY not in repr(settings) and KEY not in str(settings.model_dump())
    assert "llm" not in settings.generator.sources  # llm stays off by default
