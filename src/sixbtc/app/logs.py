"""Logging of every process: structlog over the standard library, JSON lines or pretty.

:func:`configure_logging` routes structlog loggers *and* the standard library's (the modules
that use ``logging.getLogger``) through one formatter: JSON lines (one object per line) when
``logging.json_logs`` is set or the stream is not a terminal (a service under supervisord),
pretty coloured lines on a terminal. The process fields of :func:`bind_role` (``role``, ``pid``,
``worker``, every thread) and the context bound by :func:`sixbtc.app.claim_guard.claim_guard` (``strategy_id``, ``strategy``,
``claim_token``) is carried by every line. Secrets never appear: every configured
``SecretStr`` value (and any extra secret passed in) is replaced by ``[REDACTED]`` in every
field of every line, tracebacks included (the last processor before rendering).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from typing import Any, TextIO

import structlog
from pydantic import BaseModel, SecretStr

from sixbtc.config import Settings

REDACTED = "[REDACTED]"
#: Shorter values are not treated as secrets (they would redact ordinary words).
MIN_SECRET_LEN = 6


def settings_secrets(settings: Settings) -> list[str]:
    """Every non-empty ``SecretStr`` value of ``settings`` (all sections)."""
    found: list[str] = []

    def walk(model: BaseModel) -> None:
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                found.append(value.get_secret_value())
            elif isinstance(value, BaseModel):
                walk(value)

    walk(settings)
    return found


class Redactor:
    """structlog processor replacing each secret by :data:`REDACTED` in every string field."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Also redact ``secrets`` (values shorter than :data:`MIN_SECRET_LEN` are ignored)."""
        new = {s for s in secrets if s and len(s) >= MIN_SECRET_LEN} - set(self.secrets)
        self.secrets = sorted([*self.secrets, *new], key=len, reverse=True)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self.secrets:
                value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._clean(v) for v in value]
        return value if isinstance(value, int | float | bool | type(None)) else self._clean(str(value))

    def __call__(self, _logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
        return {k: self._clean(v) for k, v in event.items()}


#: The process's redactor (one per process: :func:`configure_logging` fills it).
REDACTOR = Redactor()


#: Fields of this process (``role``, ``pid``, ``worker``) added to every line of every thread.
_PROCESS: dict[str, Any] = {}


def _process_fields(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    return {**_PROCESS, **event}


def _shared() -> list[Any]:
    return [_process_fields, structlog.contextvars.merge_contextvars, structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name, structlog.processors.TimeStamper(fmt="iso", utc=True)]


def route_to_stdlib() -> None:
    """structlog's loggers write through the standard library's ``logging`` (so that, before
    :func:`configure_logging`, a CLI command shows only what the root logger lets through:
    warnings and errors on standard error). Done when :mod:`sixbtc.app` is imported."""
    _route(structlog.dev.ConsoleRenderer(colors=False))


def _route(last: Any) -> None:
    structlog.configure(processors=[*_shared(), structlog.stdlib.filter_by_level, REDACTOR, last],
                        logger_factory=structlog.stdlib.LoggerFactory(),
                        wrapper_class=structlog.stdlib.BoundLogger, cache_logger_on_first_use=False)


def configure_logging(settings: Settings, *, json_lines: bool | None = None, stream: TextIO | None = None,
                      extra_secrets: Iterable[str] = ()) -> None:
    """Configure structlog and the standard library's root logger for this process.

    Parameters
    ----------
    settings : Settings
        ``logging.level``, ``logging.json_logs``; its ``SecretStr`` values are redacted.
    json_lines : bool or None
        Force JSON (True) or pretty (False); None: JSON when ``logging.json_logs`` or when
        ``stream`` is not a terminal.
    stream : TextIO or None
        Where lines go (default: standard error).
    extra_secrets : iterable of str
        Further values to redact (e.g. the API token of the home directory).
    """
    stream = stream or sys.stderr
    REDACTOR.add([*settings_secrets(settings), *extra_secrets])
    use_json = json_lines if json_lines is not None else (settings.logging.json_logs or not stream.isatty())
    shared = _shared()
    _route(structlog.stdlib.ProcessorFormatter.wrap_for_formatter)
    renderer = (structlog.processors.JSONRenderer() if use_json
                else structlog.dev.ConsoleRenderer(colors=stream.isatty()))
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, REDACTOR, renderer])
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.logging.level)
    for noisy in ("alembic", "apscheduler", "httpx", "httpcore", "uvicorn.access"):  # their detail only at DEBUG
        logging.getLogger(noisy).setLevel(logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING)


def bind_role(role: str, worker: str) -> None:
    """Add ``role``, ``pid`` and ``worker`` to every later log line of this process, in every
    thread (context variables, used for the claim ids, do not reach threads started elsewhere)."""
    _PROCESS.update(role=role, pid=os.getpid(), worker=worker)
