"""Load ``config.yaml`` + environment into :class:`Settings`, and render the default file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsError

from sixbtc.config.settings import Settings
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


#: Key paths of secret fields: their rejected input is never echoed in an error message.
_SECRET_PATHS = frozenset(
    f"{name}.{key}"
    for name, section in Settings.model_fields.items()
    for key, field in section.annotation.model_fields.items()
    if "SecretStr" in str(field.annotation)
)


def _describe(err: dict[str, Any]) -> str:
    path = ".".join(str(p) for p in err["loc"]) or "(root)"
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{path}: unknown key"
    got = "" if path in _SECRET_PATHS else f" (got {err.get('input')!r})"
    for word, text in _TYPE_WORDS.items():
        if kind.startswith(word) and kind.endswith(("_type", "_parsing")):
            return f"{path}: {text}{got}"
    return f"{path}: {err['msg']}"


def load_settings(config_path: Path | None) -> Settings:
    """Load settings from ``config_path`` (may be absent) and ``SIXBTC__*`` env variables.

    Parameters
    ----------
    config_path : Path or None
        YAML file; a missing file means "all defaults".

    Returns
    -------
    Settings

    Raises
    ------
    ConfigError
        When the file is not a YAML mapping, or a key is unknown or has a wrong type; the
        message names every offending key path, e.g. ``active_pool.max_size: expected int``.
    """
    raw: dict[str, Any] = {}
    if config_path is not None and config_path.exists():
        try:
            loaded = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{config_path}: not valid YAML: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{config_path}: top level must be a mapping of sections")
        raw = loaded or {}
    try:
        return Settings.model_validate(_EnvFirstSettings(**raw).model_dump())
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise ConfigError(f"invalid configuration ({config_path}): {problems}") from exc
    except SettingsError as exc:  # an env value pydantic-settings cannot decode (lists are JSON)
        names = ", ".join(sorted(k for k in os.environ if k.upper().startswith("SIXBTC__")))
        raise ConfigError(f"invalid environment variable: {exc} (set: {names}); "
                          "list values must be JSON, e.g. SIXBTC__DATA__COINS='[\"BTC\"]'") from exc


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
        dumped = yaml.safe_dump({key: value}, default_flow_style=True, sort_keys=False).strip()
        out.append(f"  {dumped.strip('{}')}")
    return out
