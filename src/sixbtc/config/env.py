"""The ``SIXBTC__SECTION__KEY`` environment overrides: names checked, list values checked.

pydantic-settings reads the values; this module makes sure that every variable with the
``SIXBTC__`` prefix names a key (a typo such as ``SIXBTC__EXECUTER__DRY_RUN`` would
otherwise be ignored and the default silently kept) and that list values are JSON, so that
errors name the variable rather than the section.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from functools import cache
from typing import Any, get_origin

from sixbtc.config.settings import Settings
from sixbtc.core.errors import ConfigError

ENV_PREFIX = "SIXBTC__"
_DELIMITER = "__"


@cache
def known_variables() -> dict[str, tuple[str, ...]]:
    """Every accepted variable name (upper case) and the key path it sets.

    ``SIXBTC__SECTION`` sets a whole section from a JSON object; ``SIXBTC__SECTION__KEY``
    sets one key.
    """
    names: dict[str, tuple[str, ...]] = {}
    for section, field in Settings.model_fields.items():
        names[f"{ENV_PREFIX}{section.upper()}"] = (section,)
        for key in field.annotation.model_fields:
            names[f"{ENV_PREFIX}{section.upper()}{_DELIMITER}{key.upper()}"] = (section, key)
    return names


def _json_kind(path: tuple[str, ...]) -> type | None:
    """``list``/``dict`` when pydantic-settings decodes the value at ``path`` as JSON, else None."""
    if len(path) == 1:
        return dict
    annotation = Settings.model_fields[path[0]].annotation.model_fields[path[1]].annotation
    kind = get_origin(annotation) or annotation
    return kind if kind in (list, dict) else None


def _unknown(names: list[str]) -> ConfigError:
    suffixes = [k.removeprefix(ENV_PREFIX) for k in known_variables()]  # compare what differs
    parts = []
    for name in sorted(names):
        close = difflib.get_close_matches(name.upper().removeprefix(ENV_PREFIX), suffixes, n=1, cutoff=0.6)
        hint = f" (did you mean {ENV_PREFIX}{close[0]}?)" if close else ""
        parts.append(f"{name}{hint}")
    return ConfigError(f"unknown environment variable{'s' if len(parts) > 1 else ''} "
                       f"{', '.join(parts)}: {ENV_PREFIX}SECTION__KEY must name a key of "
                       "config.yaml (see `sixbtc init`)")


def env_overrides(environ: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """The key paths set by ``SIXBTC__*`` variables of ``environ``, mapped to the variable name.

    Parameters
    ----------
    environ : mapping of str to str
        Usually ``os.environ``. Names are matched case-insensitively, as pydantic-settings does.

    Returns
    -------
    dict of tuple of str to str
        ``("active_pool", "max_size") -> "SIXBTC__ACTIVE_POOL__MAX_SIZE"``; a whole-section
        variable maps ``("active_pool",)``.

    Raises
    ------
    ConfigError
        When a variable names no section or key (with the nearest valid name), or when a
        list or section value is not JSON; the message names the variable.
    """
    known = known_variables()
    found: dict[tuple[str, ...], str] = {}
    unknown: list[str] = []
    for name, value in environ.items():
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = known.get(name.upper())
        if path is None:
            unknown.append(name)
            continue
        kind = _json_kind(path)
        if kind is not None:
            _check_json(name, path, value, kind)
        found[path] = name
    if unknown:
        raise _unknown(unknown)
    return found


def _check_json(name: str, path: tuple[str, ...], value: str, kind: type) -> None:
    try:
        decoded: Any = json.loads(value)
    except ValueError:
        decoded = None
    if not isinstance(decoded, kind):
        example = "'{\"key\": 1}'" if kind is dict else "'[\"BTC\", \"ETH\"]'"
        got = "" if len(path) == 1 else f" (got {value!r})"  # a section may hold secrets
        raise ConfigError(f"invalid environment variable {name}: {'.'.join(path)}: expected a JSON "
                          f"{'object' if kind is dict else 'list'}, e.g. {name}={example}{got}")
