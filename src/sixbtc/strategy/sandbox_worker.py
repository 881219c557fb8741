"""The sandbox worker process: runs untrusted strategy code (``python -I -m`` this module).

Started only by :class:`sixbtc.strategy.sandbox.StrategySandbox`, which has already applied
the resource limits and the namespaces. On start the worker sends a ``hello``
(``pid``, ``uid`` (65534 after :func:`drop_privileges`), ``network_isolated``,
``filesystem_readonly``, the hard ``rlimits`` it runs under, checked by the parent).
The worker speaks the
:mod:`sixbtc.strategy.wire` protocol on private duplicates of its stdin/stdout; fds 0 and 1
are then pointed at ``/dev/null`` so that ``print`` or C-level writes from strategy code
cannot corrupt the protocol.

Requests (JSON header ``op``) and replies:

* ``load`` ``{code}`` → ``{ok, class_name, declared}`` (the four contract attributes,
  JSON-sanitised) or an error.
* ``signals`` ``{params_list}`` [+ arrays ``open high low close volume`` to replace the
  cached data] → ``{ok, cpu_s}`` + arrays ``entries`` and ``exits``: bool
  ``(n_params, n_bars)`` packed along bars with ``np.packbits(axis=1)`` (uint8
  ``(n_params, ceil(n_bars / 8))``, 8x less to copy through the pipe).
* ``ping`` → ``{ok}``.

Errors are replies ``{ok: false, reason, error: {type, message, line}}`` with ``reason`` in
``execution:error``, ``execution:bad_output``, ``sandbox:memory``, ``contract:*``; the
``line`` is the last traceback line inside the strategy source.

The strategy runs in a fresh namespace whose ``__builtins__`` is a curated dict (no
``open``, ``eval``, ``exec``, ``compile``, ``getattr``...; ``__import__`` admits only
:data:`sixbtc.strategy.contract.ALLOWED_IMPORTS` plus numpy/pandas submodules, which
numpy's C code imports lazily through the caller's ``__import__``). This is a quality filter, **not** the
security boundary (numpy and pandas expose paths to ``os``); the boundary is the process
with its limits. Each ``signals`` request re-executes the compiled source into a fresh
namespace and instance, so no state survives between calls (no caching of a longer
history to cheat the truncation test). Data arrays handed to strategy code are read-only
views over immutable bytes. This module must never import numba.

Indicator cache: the worker activates one
:class:`~sixbtc.strategy.indicator_cache.IndicatorCache` at start (bound
:func:`indicator_cache_bytes`: 256 MiB, less under a tight ``RLIMIT_AS``) and registers every
new OHLCV data set with it, so each (data set, indicator, parameters) is computed once for
all parameter sets and calls. It is keyed by a content hash of the data (a truncated history
never sees results of the full one), its results are immutable, and it is the only state kept
between calls; it dies with the worker (one strategy per worker by default).
"""

from __future__ import annotations

import builtins
import math  # noqa: F401 - preloaded for strategy imports
import os
import resource
import sys
import traceback
from typing import Any

import numpy as np

from sixbtc.strategy import indicator_cache, wire
from sixbtc.strategy.contract import ALLOWED_IMPORTS, OHLCV_KEYS

STRATEGY_FILENAME = "<strategy>"
#: Default bound of the worker's indicator cache (bytes).
INDICATOR_CACHE_BYTES = 256 * 1024 * 1024
#: Address space assumed taken by the booted worker and a strategy's temporaries (bytes).
_RESERVED_AS_BYTES = 400 * 1024 * 1024
DECLARED_ATTRS: tuple[str, ...] = ("strategy_type", "direction", "timeframes", "param_space")
_SAFE_NAMES = [
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "enumerate",
    "filter",
    "float",
    "frozenset",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "list",
    "map",
    "max",
    "min",
    "next",
    "range",
    "reversed",
    "round",
    "set",
    "slice",
    "sorted",
    "str",
    "sum",
    "tuple",
    "zip",
    "divmod",
    "pow",
    "hash",
    "repr",
    "format",
    "chr",
    "ord",
    "bin",
    "hex",
    "oct",
    "complex",
    "callable",
    "object",
    "property",
    "staticmethod",
    "classmethod",
    "super",
    "__build_class__",
    "True",
    "False",
    "None",
    "NotImplemented",
    "Ellipsis",
    "BaseException",
    "Exception",
    "ArithmeticError",
    "AttributeError",
    "FloatingPointError",
    "IndexError",
    "KeyError",
    "LookupError",
    "NameError",
    "NotImplementedError",
    "OverflowError",
    "RuntimeError",
    "StopIteration",
    "TypeError",
    "ValueError",
    "ZeroDivisionError",
    "ImportError",
    "RecursionError",
    "MemoryError",
    "Warning",
    "RuntimeWarning",
    "UserWarning",
]


#: numpy's C code imports its own submodules lazily through the *calling frame's*
#: ``__import__`` (``PyImport_Import``), i.e. through this guard; submodules of these roots
#: are therefore admitted (they are reachable by attribute access anyway).
_INTERNAL_ROOTS = frozenset({"numpy", "pandas"})


class StrategyFailure(Exception):
    """A load/signals request failed; carries the reply's ``reason`` and error fields."""

    def __init__(self, reason: str, message: str, *, exc_type: str = "", line: int | None = None):
        super().__init__(message)
        self.reason, self.message, self.exc_type, self.line = reason, message, exc_type, line


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
    """``__import__`` replacement admitting only the contract's allow-list."""
    if level != 0:
        raise ImportError("relative imports are not allowed in strategy code")
    if name not in ALLOWED_IMPORTS and name.split(".")[0] not in _INTERNAL_ROOTS:
        raise ImportError(f"import of {name!r} is not allowed in strategy code")
    if name == "sixbtc.strategy" and set(fromlist or ()) - {"indicators"}:
        raise ImportError("only 'indicators' may be imported from sixbtc.strategy")
    return builtins.__import__(name, globals, locals, fromlist, level)


def _print(*args: Any, **kwargs: Any) -> None:
    """``print`` for strategy code: discarded."""


def safe_builtins() -> dict[str, Any]:
    """The curated ``__builtins__`` dict given to strategy code."""
    table = {name: getattr(builtins, name) for name in _SAFE_NAMES}
    table.update(__import__=_guarded_import, print=_print)
    return table


def _error_line(exc: BaseException) -> int | None:
    lines = [
        f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == STRATEGY_FILENAME
    ]
    if isinstance(exc, SyntaxError) and exc.filename == STRATEGY_FILENAME:
        return exc.lineno
    return lines[-1] if lines else None


def _failure(exc: BaseException) -> StrategyFailure:
    if isinstance(exc, StrategyFailure):
        return exc
    reason = "sandbox:memory" if isinstance(exc, MemoryError) else "execution:error"
    return StrategyFailure(
        reason, str(exc)[:1000], exc_type=type(exc).__name__, line=_error_line(exc)
    )


def _jsonable(value: Any, depth: int = 0) -> Any:
    """Convert a declared attribute to plain JSON types, or raise ``StrategyFailure``."""
    if depth > 6:
        raise StrategyFailure("contract:bad_declaration", "declaration nested too deeply")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_jsonable(v, depth + 1) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _jsonable(v, depth + 1) for k, v in value.items()}
    raise StrategyFailure(
        "contract:bad_declaration", f"unsupported value of type {type(value).__name__}"
    )


class Worker:
    """State of one worker: the compiled strategy and the cached OHLCV arrays."""

    def __init__(self) -> None:
        self.code_obj: Any = None
        self.class_name: str | None = None
        self.data: dict[str, np.ndarray] = {}

    def _fresh_class(self) -> type:
        namespace: dict[str, Any] = {"__builtins__": safe_builtins(), "__name__": "strategy"}
        exec(self.code_obj, namespace)  # noqa: S102 - the whole point of this process
        classes = [
            (k, v)
            for k, v in namespace.items()
            if k.startswith("Strategy_") and isinstance(v, type)
        ]
        if len(classes) != 1:
            raise StrategyFailure(
                "contract:strategy_class",
                f"expected exactly one Strategy_* class, found {len(classes)}",
            )
        name, cls = classes[0]
        if not callable(getattr(cls, "signals", None)):
            raise StrategyFailure("contract:signals_method", f"{name} has no signals method")
        self.class_name = name
        return cls

    def load(self, code: str) -> dict[str, Any]:
        """Compile and execute ``code``; report the class name and its declarations."""
        self.code_obj = compile(code, STRATEGY_FILENAME, "exec", dont_inherit=True)
        cls = self._fresh_class()
        declared = {a: _jsonable(getattr(cls, a, None)) for a in DECLARED_ATTRS}
        return {"ok": True, "class_name": self.class_name, "declared": declared}

    def set_data(self, arrays: dict[str, np.ndarray]) -> None:
        """Cache OHLCV arrays as read-only views over immutable bytes; register them with
        the active indicator cache (if any) as the current data set."""
        self.data = {
            k: np.frombuffer(np.ascontiguousarray(arrays[k], dtype=np.float64).tobytes())
            for k in OHLCV_KEYS
        }
        cache = indicator_cache.active()
        if cache is not None:
            cache.set_dataset(self.data)

    def signals(self, params_list: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Run ``signals`` once per parameter set; returns bool ``(n_params, n_bars)`` twice."""
        if self.code_obj is None or not self.data:
            raise StrategyFailure("execution:error", "no strategy loaded or no data sent")
        n = len(self.data["close"])
        entries = np.zeros((len(params_list), n), dtype=bool)
        exits = np.zeros((len(params_list), n), dtype=bool)
        instance = self._fresh_class()()
        for k, params in enumerate(params_list):
            result = instance.signals(dict(self.data), dict(params))
            entries[k], exits[k] = _check_output(result, n, params)
        return entries, exits


def _check_output(result: Any, n: int, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise StrategyFailure(
            "execution:bad_output", f"signals must return (entries, exits); params={params}"
        )
    out = []
    for label, value in zip(("entries", "exits"), result, strict=True):
        arr = np.asarray(value)
        if arr.dtype != np.bool_ or arr.shape != (n,):
            raise StrategyFailure(
                "execution:bad_output",
                f"{label} must be a bool array of shape ({n},), got dtype {arr.dtype} "
                f"shape {arr.shape}; params={params}",
            )
        out.append(arr)
    return out[0], out[1]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _handle(worker: Worker, header: dict[str, Any], arrays: dict[str, np.ndarray]):
    op = header.get("op")
    if op == "ping":
        return {"ok": True}, None
    if op == "load":
        return worker.load(str(header.get("code", ""))), None
    if op == "signals":
        if arrays:
            worker.set_data(arrays)
        entries, exits = worker.signals(list(header.get("params_list", [])))
        packed = {"entries": np.packbits(entries, axis=1), "exits": np.packbits(exits, axis=1)}
        return {"ok": True, "cpu_s": _cpu_seconds()}, packed
    return {
        "ok": False,
        "reason": "sandbox:protocol",
        "error": {"message": f"unknown op {op!r}"},
    }, None


def indicator_cache_bytes(as_limit: int) -> int:
    """Bound of the worker's indicator cache for an ``RLIMIT_AS`` of ``as_limit`` bytes.

    ``INDICATOR_CACHE_BYTES`` (256 MiB), but at most half of what remains of the address space
    after ``_RESERVED_AS_BYTES`` (400 MiB), so a cache never pushes a strategy into
    ``sandbox:memory``; ``0`` (nothing cached) below 400 MiB. ``RLIM_INFINITY`` -> default.
    """
    if as_limit == resource.RLIM_INFINITY or as_limit < 0:
        return INDICATOR_CACHE_BYTES
    return max(0, min(INDICATOR_CACHE_BYTES, (as_limit - _RESERVED_AS_BYTES) // 2))


def _network_isolated() -> bool:
    """True when the only network interface visible is loopback (a fresh namespace)."""
    try:
        with open("/proc/self/net/dev") as fh:
            names = [line.split(":")[0].strip() for line in fh.readlines()[2:]]
    except OSError:
        return False
    return names == ["lo"]


def serve(proto_in: Any, proto_out: Any) -> None:
    """Answer requests until the parent closes the pipe."""
    worker = Worker()
    wire.write_message(
        proto_out,
        {
            "ok": True,
            "op": "hello",
            "pid": os.getpid(),
            "uid": os.getuid(),
            "network_isolated": _network_isolated(),
            "filesystem_readonly": bool(os.statvfs("/").f_flag & os.ST_RDONLY),
            "rlimits": {
                name: resource.getrlimit(kind)[1]
                for name, kind in (
                    ("as", resource.RLIMIT_AS),
                    ("cpu", resource.RLIMIT_CPU),
                    ("fsize", resource.RLIMIT_FSIZE),
                    ("nofile", resource.RLIMIT_NOFILE),
                )
            },
        },
    )
    while True:
        try:
            header, arrays = wire.read_message(proto_in)
        except wire.WireError:
            return
        try:
            reply, out = _handle(worker, header, arrays)
        except BaseException as exc:  # noqa: BLE001 - strategy code may raise anything
            fail = _failure(exc)
            error = {"type": fail.exc_type, "message": fail.message, "line": fail.line}
            reply, out = {"ok": False, "reason": fail.reason, "error": error}, None
        wire.write_message(proto_out, reply, out)


#: uid/gid the worker switches to when started as root ("nobody" on Debian/Ubuntu).
NOBODY = 65534


def drop_privileges() -> None:
    """As root, after the preloads: no new processes, then become ``nobody``.

    ``RLIMIT_NPROC`` counts the processes of the *real uid* and root ignores it, so it is
    set to 0 here and takes effect once the uid is ``nobody``: ``fork``/threads then fail
    (fork bombs die at the first fork). Dropping uid also drops every capability (no
    ``mount``, no ``chroot``, no signals to root's processes) and makes root-owned private
    files (mode 0600, ``/root``) unreadable. Modules not preloaded by then cannot be
    imported from a private interpreter tree; strategy code only needs the preloads.
    Not root: nothing to drop (the parent already set ``RLIMIT_NPROC`` = 0).
    """
    if os.geteuid() != 0:
        return
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)


def main() -> None:
    """Entry point: move the protocol to private fds, preload allowed modules, serve."""
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    import pandas  # noqa: F401 - preloaded so strategy imports are cheap

    from sixbtc.strategy import indicators  # noqa: F401

    as_limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    indicator_cache.activate(indicator_cache.IndicatorCache(indicator_cache_bytes(as_limit)))
    drop_privileges()
    serve(proto_in, proto_out)


if __name__ == "__main__":
    main()
