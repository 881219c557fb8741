"""Secrets for live trading: from the environment or a file only its owner can read.

The agent wallet key (``exchange.agent_private_key``) may come from the environment
(``SIXBTC__EXCHANGE__AGENT_PRIVATE_KEY``), from ``config.yaml`` when that file is mode 0600,
or from ``exchange.agent_key_file`` (mode 0600). A file readable or writable by group or others
is refused: another user of the machine could read the key (or swap it). The key is returned as
:class:`~pydantic.SecretStr` and never echoed in an error.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from sixbtc.config.settings import Settings
from sixbtc.core.errors import ConfigError

KEY_PATH = "exchange.agent_private_key"
FILE_PATH = "exchange.agent_key_file"
ENV_NAME = "SIXBTC__EXCHANGE__AGENT_PRIVATE_KEY"
_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


def check_private_file(path: Path, key_path: str) -> None:
    """Raise ``ConfigError`` naming ``key_path`` unless ``path`` is a regular file that group and
    others can neither read nor write (mode 0600 or 0400)."""
    try:
        st = path.stat()
    except OSError as exc:
        raise ConfigError(f"{key_path}: cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{key_path}: {path} is not a regular file")
    if st.st_mode & 0o077:
        raise ConfigError(f"{key_path}: {path} is readable or writable by group or others (mode "
                          f"{stat.S_IMODE(st.st_mode):04o}); run `chmod 600 {path}`")


def agent_key(settings: Settings, environ: Mapping[str, str] | None = None,
              config_path: Path | None = None) -> tuple[SecretStr, str]:
    """The agent wallet key and where it came from (``"environment"``, ``"config.yaml"`` or the file path).

    Parameters
    ----------
    settings : Settings
    environ : mapping, optional
        The environment (default ``os.environ``): tells a key from the environment from one in
        ``config.yaml``.
    config_path : Path, optional
        ``config.yaml`` of the home (its mode is checked when the key came from it).

    Raises
    ------
    ConfigError
        No key, a key file or ``config.yaml`` holding the key readable by others, or a key that
        is not 32 bytes of hex (the message names the key path, never the value).
    """
    env = os.environ if environ is None else environ
    ex = settings.exchange
    if ex.agent_private_key is not None:
        source = "environment" if env.get(ENV_NAME) else "config.yaml"
        if source == "config.yaml" and config_path is not None:
            check_private_file(config_path, KEY_PATH)
        return checked_key(ex.agent_private_key.get_secret_value(), KEY_PATH), source
    if ex.agent_key_file is not None:
        path = Path(ex.agent_key_file).expanduser()
        check_private_file(path, FILE_PATH)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{FILE_PATH}: cannot read {path}: {type(exc).__name__}") from None
        return checked_key(text, FILE_PATH), str(path)
    raise ConfigError(f"{KEY_PATH}: live trading needs the agent wallet key: set {ENV_NAME} in the environment "
                      f"or {FILE_PATH} to a file of mode 0600 holding it")


def checked_key(value: str, key_path: str) -> SecretStr:
    """``value`` as a ``SecretStr`` when it is a private key (64 hex digits, optional ``0x``).

    Raises
    ------
    ConfigError
        Naming ``key_path`` (never the value) when it is not.
    """
    if not _KEY.match(value.strip()):
        raise ConfigError(f"{key_path}: not an agent private key (expected 64 hex digits, optionally 0x-prefixed)")
    return SecretStr(value.strip())
