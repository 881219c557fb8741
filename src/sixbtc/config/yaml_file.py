"""Read ``config.yaml`` strictly: UTF-8, a mapping of sections, no repeated key.

PyYAML keeps the last of two equal keys without a word, so ``max_size: 10`` followed later
by ``max_size: 300`` silently means 300; here it is an error naming both lines.

Errors name the line (and column) but never quote the file's text: the line may hold a
secret (``telegram_token: 123:ABC: x`` is a syntax error whose PyYAML message prints it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sixbtc.core.encoding import NotUtf8, decode_text
from sixbtc.core.errors import ConfigError


def _check_keys(node: yaml.Node, path: str, config_path: Path) -> None:
    """Walk a composed YAML tree; raise on a repeated or non-string mapping key."""
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_keys(item, f"{path}[{i}]", config_path)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:str"):
            what = (f"key {key_node.value!r}" if isinstance(key_node, yaml.ScalarNode)
                    else f"a {'mapping' if isinstance(key_node, yaml.MappingNode) else 'list'} used as a key")
            raise ConfigError(f"{config_path}, line {line}: {what} "
                              f"{'in ' + path + ' ' if path else ''}is not a name")
        key = key_node.value
        full = f"{path}.{key}" if path else key
        if key in seen:
            raise ConfigError(f"{config_path}, line {line}: duplicate key {full} "
                              f"(first set on line {seen[key]})")
        seen[key] = line
        _check_keys(value_node, full, config_path)


def _decode(config_path: Path) -> str:
    try:
        data = config_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read the configuration file: "
                          f"{exc.strerror or exc}") from None
    try:
        return decode_text(data)
    except NotUtf8 as exc:
        raise ConfigError(f"{config_path}, {exc}") from None


def _syntax_error(config_path: Path, exc: yaml.YAMLError) -> str:
    """``PATH, line L, column C: not valid YAML: what (while ... at line L2)``, without the
    text of the lines."""

    def at(mark: yaml.Mark | None) -> str:
        return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""

    problem, context = getattr(exc, "problem", None), getattr(exc, "context", None)
    problem_mark, context_mark = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
    where = f", {at(problem_mark or context_mark)}" if (problem_mark or context_mark) else ""
    what = problem or context or type(exc).__name__
    if problem and context:
        what += f" ({context}{' at ' + at(context_mark) if context_mark else ''})"
    return f"{config_path}{where}: not valid YAML: {what}"


def read_config_file(config_path: Path | None) -> dict[str, Any]:
    """The sections of ``config_path`` as a dict (``{}`` when there is no file).

    An empty section (``active_pool:`` with every key commented out) means its defaults.

    Raises
    ------
    ConfigError
        When the file cannot be read (a dangling symlink, no permission), is not UTF-8, is
        not valid YAML, is not a mapping of sections, or repeats a key (named with its line).
    """
    if config_path is None or not (config_path.exists() or config_path.is_symlink()):
        return {}
    text = _decode(config_path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            _check_keys(node, "", config_path)
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(_syntax_error(config_path, exc)) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{config_path}: top level must be a mapping of sections")
    return {name: ({} if value is None else value) for name, value in loaded.items()}
