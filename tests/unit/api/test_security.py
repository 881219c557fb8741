"""Bind rules, token strength, the token file and the CLI's refusal on a non-loopback address."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sixbtc.api.security import (
    allowed_origins,
    check_bind,
    is_loopback,
    origin_allowed,
    token_matches,
    token_weakness,
    ws_token,
)
from sixbtc.api.server import prepare
from sixbtc.app.api_token import resolve_token, token_path
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.cli.main import app
from sixbtc.core.errors import ConfigError

STRONG = "Zq3-vT8pLw0_mK5nR2xY7bC4dF9gH1jS6aE"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_hosts_need_no_token(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, None)


@pytest.mark.parametrize("token, why", [(None, "required"), ("", "required"), ("short", "5 characters"),
                                        ("a" * 40, "distinct characters"),
                                        ("abcdefghijklmn" + "x" * 30, "entropy")])
def test_a_non_loopback_host_refuses_a_missing_or_weak_token(token: str | None, why: str) -> None:
    for host in ("0.0.0.0", "192.168.1.5", "example.org", "::"):
        with pytest.raises(ConfigError, match=rf"^api\.token: .*{why}"):
            check_bind(host, token)


def test_a_strong_token_allows_any_address() -> None:
    assert token_weakness(STRONG) is None
    check_bind("0.0.0.0", STRONG)


def test_token_comparison_and_websocket_token() -> None:
    assert token_matches(STRONG, STRONG) and not token_matches(STRONG[:-1], STRONG)
    assert not token_matches(None, STRONG) and not token_matches("", STRONG)
    assert ws_token(["sixbtc", "token.abc"]) == "abc" and ws_token(["sixbtc"]) is None


def test_origins_are_the_servers_own_plus_the_configured_ones() -> None:
    allowed = allowed_origins("127.0.0.1", 8080, ["https://Dash.Example.org/"])
    assert origin_allowed(None, allowed) and origin_allowed("http://localhost:8080", allowed)
    assert origin_allowed("https://dash.example.org", allowed)
    assert not origin_allowed("http://127.0.0.1:9999", allowed) and not origin_allowed("null", allowed)


def test_a_generated_token_is_kept_with_mode_0600_and_reused(tmp_path: Path) -> None:
    c = Container.open(Home(tmp_path))
    token, source = resolve_token(c)
    path = token_path(c)
    assert source == str(path) and len(token) >= 40 and token_weakness(token) is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_token(c) == (token, source)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="api.token: .* readable by other users"):
        resolve_token(c)


def test_a_configured_token_wins_and_no_file_is_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SIXBTC__API__TOKEN", STRONG)
    c = Container.open(Home(tmp_path))
    assert resolve_token(c) == (STRONG, "api.token") and not token_path(c).exists()
    server, info = prepare(c, "0.0.0.0", 18080)
    assert info.url == "http://0.0.0.0:18080/" and info.login_url.endswith(f"#token={STRONG}")
    assert server.config.host == "0.0.0.0"


def test_sixbtc_api_refuses_a_public_address_with_a_weak_token(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SIXBTC__API__TOKEN", "password123")
    res = CliRunner().invoke(app, ["--home", str(tmp_path), "api", "--host", "0.0.0.0"])
    assert res.exit_code == 2 and "api.token" in res.output and "too weak" in res.output
    assert "password123" not in res.output
