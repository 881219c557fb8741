"""Load ``config.yaml`` + environment into :class:`Settings`, and render the default file.

Every error is a :class:`ConfigError` with one line per problem that names where the bad
value came from: ``config.yaml``'s path and the key path, or the environment variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsError

from sixbtc.config.env import ENV_PREFIX, env_overrides
from sixbtc.config.settings import Settings
from sixbtc.config.yaml_file import read_config_file
from sixbtc.core.errors import ConfigError

_TYPE_WORDS = {
    "int": "expected int",
    "float": "expected number",
    "bool": "expected true/false",
    "string": "expected string",
    "list": "expected list",
    "dict": "expected mapping",
    "model": "expected mapping",
}


class _EnvFirstSettings(Settings):
    """Settings whose environment variables override the YAML values passed as init kwargs."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, init_settings


#: Key paths whose rejected input is never echoed in an error message (secrets, the database
#: URL, which may hold a password, and the web hook URL, whose path is a credential for the
#: usual chat services).
_SECRET_PATHS = frozenset(
    f"{name}.{key}"
    for name, section in Settings.model_fields.items()
    for key, field in section.annotation.model_fields.items()
    if "SecretStr" in str(field.annotation)
) | {"database.url", "notify.webhook_url"}


def _describe(err: Mapping[str, Any]) -> str:
    """``key.path: what is wrong (got value)`` for one pydantic error."""
    path = ".".join(str(p) for p in err["loc"]) or "(root)"
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{path}: unknown key"
    secret = any(path == s or path.startswith(s + ".") for s in _SECRET_PATHS)
    got = "" if secret or "input" not in err or isinstance(err["input"], dict) else f" (got {err['input']!r})"
    for word, text in _TYPE_WORDS.items():
        if kind.startswith(word) and kind.endswith(("_type", "_parsing")):
            return f"{path}: {text}{got}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if got and (repr(err["input"]) in msg or isinstance(err["input"], bool)):
        got = ""  # the message already shows the value
    return f"{path}: {msg}{got}"


def _source(loc: tuple[Any, ...], from_env: Mapping[tuple[str, ...], str]) -> str | None:
    """The environment variable the value at ``loc`` came from, or None (the file)."""
    key = tuple(str(p) for p in loc)
    return from_env.get(key[:2]) or from_env.get(key[:1])


def _problems(exc: ValidationError, from_env: Mapping[tuple[str, ...], str], config_path: Path | None) -> str:
    """One line: the problems grouped by where the values came from (file or variable)."""
    by_source: dict[str | None, list[str]] = {}
    for err in exc.errors():
        by_source.setdefault(_source(err["loc"], from_env), []).append(_describe(err))
    parts = []
    for var, items in by_source.items():
        if var is not None:
            head = f"invalid environment variable {var}"
        elif config_path is not None and (config_path.exists() or config_path.is_symlink()):
            head = f"invalid configuration in {config_path}"
        else:
            head = "invalid configuration"
        parts.append(f"{head}: {'; '.join(items)}")
    return "; ".join(parts)


def load_settings(config_path: Path | None) -> Settings:
    """Load settings from ``config_path`` (may be absent) and ``SIXBTC__*`` env variables.

    Parameters
    ----------
    config_path : Path or None
        YAML file; a missing file means "all defaults" (a dangling symlink is an error).

    Returns
    -------
    Settings

    Raises
    ------
    ConfigError
        When the file cannot be read, is not UTF-8, is not a YAML mapping or repeats a key;
        when a ``SIXBTC__`` variable names no key; when a key is unknown or a value is
        invalid. The message names the file and key path (``active_pool.max_size: expected
        int``) or the environment variable the value came from.
    """
    raw = read_config_file(config_path)
    from_env = env_overrides(os.environ)
    try:
        return Settings.model_validate(_EnvFirstSettings(**raw).model_dump())
    except ValidationError as exc:
        raise ConfigError(_problems(exc, from_env, config_path)) from None
    except SettingsError as exc:  # an env value pydantic-settings cannot decode (lists are JSON)
        names = ", ".join(sorted(from_env.values())) or "none"
        raise ConfigError(f"invalid environment variable: {exc} ({ENV_PREFIX}* set: {names}); "
                          "list values must be JSON, e.g. SIXBTC__DATA__COINS='[\"BTC\"]'") from None


def render_default_yaml() -> str:
    """Return the default ``config.yaml``: every section and key, each with its description."""
    lines = [
        "# SixBTC configuration. Every value shown is the default.",
        "# Environment variables SIXBTC__SECTION__KEY override this file; secrets belong there.",
    ]
    defaults = Settings.model_construct()
    for name in Settings.model_fields:
        section = getattr(defaults, name)
        lines.append("")
        lines.append(f"{name}:")
        lines.extend(_render_section(section))
    return "\n".join(lines) + "\n"


def _render_section(section: BaseModel) -> list[str]:
    out = []
    for key, field in type(section).model_fields.items():
        value = getattr(section, key)
        if field.description:
            out.append(f"  # {field.description}")
        if hasattr(value, "get_secret_value"):
            value = None
        if isinstance(value, BaseModel):  # a nested block (scheduler tasks): one flow mapping
            value = value.model_dump()
        dumped = yaml.safe_dump({key: value}, default_flow_style=True, sort_keys=False).strip()
        out.append(f"  {dumped[1:-1]}")  # the outer braces of the one-key mapping
    return out
