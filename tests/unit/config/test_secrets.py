"""The agent key for live trading: environment, config.yaml or a key file, never one readable by others."""

from __future__ import annotations

from pathlib import Path

import pytest

from sixbtc.config import load_settings
from sixbtc.config.secrets import agent_key
from sixbtc.core.errors import ConfigError

KEY = "0x" + "12" * 32


def _settings(tmp_path: Path, text: str, mode: int = 0o644) -> tuple[object, Path]:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(text)
    cfg.chmod(mode)
    return load_settings(cfg), cfg


def test_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIXBTC__EXCHANGE__AGENT_PRIVATE_KEY", KEY)
    settings, cfg = _settings(tmp_path, "")
    key, source = agent_key(settings, config_path=cfg)
    assert key.get_secret_value() == KEY and source == "environment"


def test_key_in_config_yaml_needs_a_private_file(tmp_path: Path) -> None:
    settings, cfg = _settings(tmp_path, f"exchange:\n  agent_private_key: '{KEY}'\n")
    with pytest.raises(ConfigError, match=r"exchange.agent_private_key: .*config.yaml is readable .*mode 0644") as e:
        agent_key(settings, environ={}, config_path=cfg)
    assert "12" * 32 not in str(e.value)
    cfg.chmod(0o600)
    assert agent_key(settings, environ={}, config_path=cfg)[1] == "config.yaml"


def test_key_file_must_be_0600_and_hold_a_key(tmp_path: Path) -> None:
    f = tmp_path / "agent.key"
    f.write_text(KEY + "\n")
    settings, cfg = _settings(tmp_path, f"exchange:\n  agent_key_file: {f}\n")
    for mode in (0o640, 0o604, 0o620):
        f.chmod(mode)
        with pytest.raises(ConfigError, match=rf"exchange.agent_key_file: .* \(mode {mode:04o}\); run `chmod 600"):
            agent_key(settings, environ={}, config_path=cfg)
    f.chmod(0o600)
    key, source = agent_key(settings, environ={}, config_path=cfg)
    assert key.get_secret_value() == KEY and source == str(f)
    f.write_text("not a key")
    with pytest.raises(ConfigError, match="exchange.agent_key_file: not an agent private key"):
        agent_key(settings, environ={}, config_path=cfg)
    f.unlink()
    with pytest.raises(ConfigError, match="exchange.agent_key_file: cannot read"):
        agent_key(settings, environ={}, config_path=cfg)
    (tmp_path / "dir.key").mkdir()
    settings, cfg = _settings(tmp_path, f"exchange:\n  agent_key_file: {tmp_path / 'dir.key'}\n")
    with pytest.raises(ConfigError, match="is not a regular file"):
        agent_key(settings, environ={}, config_path=cfg)


def test_no_key_names_both_ways(tmp_path: Path) -> None:
    settings, cfg = _settings(tmp_path, "")
    with pytest.raises(ConfigError, match="SIXBTC__EXCHANGE__AGENT_PRIVATE_KEY .* exchange.agent_key_file"):
        agent_key(settings, environ={}, config_path=cfg)
