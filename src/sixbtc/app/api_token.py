"""The API token: ``api.token`` when configured, else a random one kept in the home directory.

The generated token is written once to ``HOME/api_token`` with mode 0600 (created with
``O_EXCL`` so two processes starting together agree on one) and read back afterwards; a file
readable by others is refused.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from sixbtc.app.container import Container
from sixbtc.core.errors import ConfigError

TOKEN_FILE = "api_token"


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def token_path(c: Container) -> Path:
    """``HOME/api_token``."""
    return c.home.root / TOKEN_FILE


def _read(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"api.token: {path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
                          f"run `chmod 600 {path}` or delete it to get a new token")
    token = path.read_text().strip()
    if not token:
        raise ConfigError(f"api.token: {path} is empty; delete it to get a new token")
    return token


def resolve_token(c: Container) -> tuple[str, str]:
    """The API token and where it comes from (``"api.token"`` or the token file's path).

    Raises
    ------
    ConfigError
        If the token file is readable by group or others, or empty.
    """
    if c.settings.api.token is not None and c.settings.api.token.get_secret_value():
        return c.settings.api.token.get_secret_value(), "api.token"
    path = token_path(c)
    if not path.exists():
        c.home.ensure()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read(path), str(path)
        with os.fdopen(fd, "w") as fh:
            fh.write(_new_token() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    return _read(path), str(path)
