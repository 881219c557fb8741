"""Loading ``config.yaml`` + ``SIXBTC__*`` environment into :class:`Settings` (SPEC §0, §4)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from sixbtc.config import Settings, load_settings, render_default_yaml
from sixbtc.core.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_and_none_give_the_defaults(tmp_path: Path) -> None:
    from_missing = load_settings(tmp_path / "does-not-exist.yaml")
    from_none = load_settings(None)
    assert from_missing == from_none == Settings()
    assert from_none.active_pool.max_size == 300
    assert from_none.active_pool.min_score == 40.0
    assert from_none.rotator.max_live_strategies == 10
    assert from_none.executor.dry_run is True


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_settings(_write(tmp_path, "")) == Settings()


def test_rendered_default_yaml_names_every_section_and_key() -> None:
    text = render_default_yaml()
    loaded = yaml.safe_load(text)
    assert list(loaded) == list(Settings.model_fields)
    for name, field in Settings.model_fields.items():
        assert f"\n{name}:\n" in text
        assert set(loaded[name]) == set(field.annotation.model_fields), name


def test_rendered_default_yaml_loads_back_to_the_defaults(tmp_path: Path) -> None:
    assert load_settings(_write(tmp_path, render_default_yaml())) == Settings()


def test_file_values_override_defaults(tmp_path: Path) -> None:
    s = load_settings(_write(tmp_path, "active_pool:\n  max_size: 7\nrisk:\n  max_leverage: 2.5\n"))
    assert s.active_pool.max_size == 7
    assert s.active_pool.min_score == 40.0  # untouched key keeps its default
    assert s.risk.max_leverage == 2.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("active_pool:\n  max_size: abc\n", "active_pool.max_size: expected int"),
        ("backtest:\n  fee_rate: cheap\n", "backtest.fee_rate: expected number"),
        ("executor:\n  dry_run: maybe\n", "executor.dry_run: expected true/false"),
        ("data:\n  coins: BTC\n", "data.coins: expected list"),
        ("active_pool: 5\n", "active_pool: expected mapping"),
        ("active_pool:\n  max_sise: 10\n", "active_pool.max_sise: unknown key"),
        ("activ_pool:\n  max_size: 10\n", "activ_pool: unknown key"),
        ("rotator:\n  max_per_type: 0\n", "rotator.max_per_type: Input should be greater than or equal to 1"),
    ],
)
def test_bad_key_or_type_names_the_key_path(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, text))
    assert expected in str(info.value)


def test_every_offending_key_is_named(tmp_path: Path) -> None:
    text = "active_pool:\n  max_size: abc\n  min_score: high\nbogus: 1\n"
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, text))
    msg = str(info.value)
    for part in ("active_pool.max_size: expected int", "active_pool.min_score: expected number",
                 "bogus: unknown key"):
        assert part in msg


@pytest.mark.parametrize("text", ["- active_pool\n- rotator\n", "just a string\n", "42\n"])
def test_non_mapping_file_is_a_config_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(_write(tmp_path, text))


def test_unparsable_yaml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(_write(tmp_path, "active_pool: [1, 2\n"))


def test_env_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIXBTC__ACTIVE_POOL__MAX_SIZE", "12")
    s = load_settings(_write(tmp_path, "active_pool:\n  max_size: 99\n  min_score: 45\n"))
    assert s.active_pool.max_size == 12
    assert s.active_pool.min_score == 45.0  # the file's other keys of that section survive


def test_env_overrides_defaults_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIXBTC__ACTIVE_POOL__MAX_SIZE", "12")
    monkeypatch.setenv("SIXBTC__EXECUTOR__DRY_RUN", "false")
    s = load_settings(None)
    assert s.active_pool.max_size == 12
    assert s.executor.dry_run is False


def test_bad_env_value_names_the_key_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIXBTC__ACTIVE_POOL__MAX_SIZE", "lots")
    with pytest.raises(ConfigError, match=r"active_pool\.max_size: expected int"):
        load_settings(None)


def test_secrets_are_secretstr_and_hidden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIXBTC__NOTIFY__TELEGRAM_TOKEN", "tg-secret-123")
    monkeypatch.setenv("SIXBTC__API__TOKEN", "api-secret-456")
    s = load_settings(_write(tmp_path, "exchange:\n  agent_private_key: 'key-secret-789'\n"))
    secrets = {
        "tg-secret-123": s.notify.telegram_token,
        "api-secret-456": s.api.token,
        "key-secret-789": s.exchange.agent_private_key,
    }
    for raw, value in secrets.items():
        assert isinstance(value, SecretStr)
        assert value.get_secret_value() == raw
        assert raw not in repr(s) and raw not in str(s)
    rendered = render_default_yaml()
    assert all(raw not in rendered for raw in secrets)
    assert yaml.safe_load(rendered)["notify"]["telegram_token"] is None


def test_rejected_secret_value_is_not_echoed(tmp_path: Path) -> None:
    # An unquoted 0x... key is parsed by YAML as an int; the error must not print it back.
    key = "0x4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, f"exchange:\n  agent_private_key: {key}\n"))
    msg = str(info.value)
    assert "exchange.agent_private_key: expected string" in msg
    assert str(int(key, 16)) not in msg and key not in msg


def test_undecodable_env_list_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # pydantic-settings expects JSON for list values; a bare word must not escape as SettingsError
    monkeypatch.setenv("SIXBTC__DATA__COINS", "BTC")
    with pytest.raises(ConfigError) as info:
        load_settings(None)
    msg = str(info.value)
    assert "invalid environment variable SIXBTC__DATA__COINS: data.coins: expected a JSON list" in msg


def test_env_list_as_json_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIXBTC__DATA__COINS", '["BTC", "ETH"]')
    assert load_settings(None).data.coins == ["BTC", "ETH"]
