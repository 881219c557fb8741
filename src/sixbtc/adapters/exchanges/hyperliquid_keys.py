"""Private keys for Hyperliquid: read from the environment/config or a 0600 file; agent keys
written to a 0600 file. Keys are held as ``SecretStr`` and never logged, returned or printed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr

from sixbtc.config.secrets import check_private_file, checked_key
from sixbtc.core.errors import ConfigError


def load_key(secret: SecretStr | None, path: str | Path | None, key_path: str) -> SecretStr | None:
    """The key given inline (``secret``) or in file ``path``; None when neither is set.

    Parameters
    ----------
    secret : SecretStr, optional
        The key from config/env (e.g. ``SIXBTC__EXCHANGE__AGENT_PRIVATE_KEY``).
    path : str or Path, optional
        A file holding the key (64 hex digits, optional ``0x``); must not be readable or
        writable by group or others.
    key_path : str
        The config key named in errors, e.g. ``"exchange.agent_key_file"``.

    Raises
    ------
    ConfigError
        Both given, file missing, file mode wider than 0600, or not a 32-byte hex key.
    """
    if secret is not None and path:
        raise ConfigError(f"{key_path}: give the key inline or as a file, not both")
    if path:
        file = Path(path).expanduser()
        check_private_file(file, key_path)
        secret = SecretStr(file.read_text().strip())
    return None if secret is None else checked_key(secret.get_secret_value(), key_path)


def wallet(secret: SecretStr) -> LocalAccount:
    """The signing account of ``secret``."""
    return Account.from_key(secret.get_secret_value().strip())


def new_agent_key_file(key_dir: str | Path, name: str) -> tuple[LocalAccount, Path]:
    """Generate an agent key with ``eth_account`` and write it to a new 0600 file in
    ``key_dir`` (created 0700) as ``agent-<name>-<address>.key``; returns the account and path.

    The file is created exclusively (never overwrites) before the key is sent anywhere, so a
    crash after the approval still leaves the key on disk.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,16}", name):
        raise ValueError(f"agent name {name!r} must be 1-16 letters, digits, '_' or '-'")
    directory = Path(key_dir).expanduser()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    account = Account.create()
    path = directory / f"agent-{name}-{account.address.lower()}.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(account.key.hex() + "\n")
    return account, path
