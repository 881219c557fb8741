"""One sandbox call: runs untrusted strategy code in a process forked for this call only.

:func:`serve_call` is the body of a child of the zygote (:mod:`sixbtc.strategy.sandbox_zygote`),
which has already isolated it (limits, namespaces, uid ``nobody``, nested user namespace).
It reads one request from its request pipe to the end, answers it on its reply pipe
(:mod:`sixbtc.strategy.wire` protocol; nothing is ever unpickled) and the process exits
(``os._exit``: no ``atexit``, no ``__del__``). Nothing it changes outlives the call.

Requests (JSON header ``op``) and replies:

* ``load`` ``{code}`` → ``{ok, class_name, declared}`` (the contract attributes,
  JSON-sanitised; ``inputs`` is ``null`` when not declared) or an error.
* ``signals`` ``{code, params_list}`` + arrays ``open high low close volume`` (and the
  extra inputs, :mod:`sixbtc.strategy.inputs`; ``open_time`` int64) →
  ``{ok}`` + arrays ``entries`` and ``exits``: bool ``(n_params, n_bars)`` packed along
  bars with ``np.packbits(axis=1)`` (uint8 ``(n_params, ceil(n_bars / 8))``); for a grid
  strategy (``strategy_type = "GRD"``) ``{ok, grid: true}`` + float64 arrays ``center`` and
  ``step`` ``(n_params, n_bars)``.
* ``probe`` → what the process sees: ``uid``, hard ``rlimits``, network ``interfaces``,
  ``host_paths_visible`` (of :data:`HOST_PROBES`), ``filesystem_readonly``, the isolation
  ``mode`` and whether a nested user namespace was entered (trusted code only; checked by
  the parent at every zygote start).

Errors are replies ``{ok: false, reason, error: {type, message, line}}`` with ``reason`` in
``execution:error``, ``execution:bad_output``, ``sandbox:memory``, ``contract:*``; the
``line`` is the last traceback line inside the strategy source.

The strategy runs in a fresh namespace whose ``__builtins__`` is a curated dict (no
``open``, ``eval``, ``exec``, ``compile``, ``getattr``...; ``__import__`` admits only
:data:`sixbtc.strategy.contract.ALLOWED_IMPORTS` plus numpy/pandas submodules, which
numpy's C code imports lazily through the caller's ``__import__``). This is a quality
filter, **not** the security boundary (numpy and pandas expose paths to ``os``); the
boundary is the process. Data arrays handed to strategy code are read-only views over
immutable bytes. This module must never import numba.

Indicator cache: each ``signals`` call activates a fresh
:class:`~sixbtc.strategy.indicator_cache.IndicatorCache` (bound :func:`indicator_cache_bytes`:
256 MiB, less under a tight ``RLIMIT_AS``) for its data set, so each (indicator,
parameters) is computed once for all the parameter sets of the call; it dies with the call.
"""

from __future__ import annotations

import builtins
import os
import resource
import socket
import traceback
from typing import Any

import numpy as np

from sixbtc.strategy import indicator_cache, wire
from sixbtc.strategy.contract import ALLOWED_IMPORTS, GRID_OUTPUT_KEYS, OHLCV_KEYS
from sixbtc.strategy.inputs import is_extra_key

STRATEGY_FILENAME = "<strategy>"
#: Default bound of a call's indicator cache (bytes).
INDICATOR_CACHE_BYTES = 256 * 1024 * 1024
#: Address space assumed taken by the booted worker and a strategy's temporaries (bytes).
_RESERVED_AS_BYTES = 400 * 1024 * 1024
DECLARED_ATTRS: tuple[str, ...] = ("strategy_type", "direction", "timeframes", "param_space", "inputs")
#: Host paths a call's process must not see (reported by :func:`probe`).
HOST_PROBES = ("/etc/passwd", "/etc/hostname", "/home", "/proc/self", "/sys/kernel", "/var",
               "/dev/shm", "/run")  # fmt: skip
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
    """One call's strategy: compiled from source, executed into a fresh namespace."""

    def __init__(self, code: str) -> None:
        self.code_obj = compile(code, STRATEGY_FILENAME, "exec", dont_inherit=True)
        self.class_name: str | None = None

    def fresh_class(self) -> type:
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

    def load(self) -> dict[str, Any]:
        """Execute the source; report the class name and its declarations."""
        cls = self.fresh_class()
        declared = {a: _jsonable(getattr(cls, a, None)) for a in DECLARED_ATTRS}
        return {"ok": True, "class_name": self.class_name, "declared": declared}

    def signals(
        self, data: dict[str, np.ndarray], params_list: list[dict[str, Any]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run ``signals`` once per parameter set; returns bool ``(n_params, n_bars)`` twice
        (a grid strategy: float64 ``center`` and ``step``)."""
        n = len(data["close"])
        cls = self.fresh_class()
        grid = getattr(cls, "strategy_type", None) == "GRD"
        dtype, check = (np.float64, _check_grid_output) if grid else (bool, _check_output)
        first = np.zeros((len(params_list), n), dtype=dtype)
        second = np.zeros((len(params_list), n), dtype=dtype)
        instance = cls()
        for k, params in enumerate(params_list):
            result = instance.signals(dict(data), dict(params))
            first[k], second[k] = check(result, n, params)
        return first, second


def _check_grid_output(result: Any, n: int, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(result, dict) or set(result) != set(GRID_OUTPUT_KEYS):
        raise StrategyFailure(
            "execution:bad_output",
            f"a GRD strategy's signals must return {{'center': ..., 'step': ...}}; params={params}",
        )
    out = []
    for label in GRID_OUTPUT_KEYS:
        arr = np.asarray(result[label])
        if arr.dtype.kind != "f" or arr.shape != (n,):
            raise StrategyFailure(
                "execution:bad_output",
                f"{label} must be a float array of shape ({n},), got dtype {arr.dtype} "
                f"shape {arr.shape}; params={params}",
            )
        if np.isinf(arr).any():
            raise StrategyFailure(
                "execution:bad_output", f"{label} has an infinite value (NaN = no grid); params={params}"
            )
        out.append(arr.astype(np.float64))
    return out[0], out[1]


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


def _immutable(arr: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """A ``dtype`` array whose memory is an immutable ``bytes`` object (copied if needed)."""
    if arr.dtype == dtype and arr.ndim == 1 and isinstance(arr.base, bytes):
        return arr  # a read-only view over the request's bytes (wire.decode_array)
    return np.frombuffer(np.ascontiguousarray(arr, dtype=dtype).tobytes(), dtype=dtype)


def read_only_data(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """OHLCV and extra input arrays (:func:`sixbtc.strategy.inputs.is_extra_key`; other
    names are dropped) as read-only views over immutable bytes (``open_time`` int64, the
    rest float64), registered as the data set of this call's fresh indicator cache (its
    token covers every array, and a cache identity names the array: ``close`` and
    ``btc_close`` are different inputs)."""
    data = {k: _immutable(arrays[k]) for k in OHLCV_KEYS}
    for key in arrays:
        if key not in data and is_extra_key(key):
            data[key] = _immutable(arrays[key], np.int64 if key == "open_time" else np.float64)
    as_limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    cache = indicator_cache.IndicatorCache(indicator_cache_bytes(as_limit))
    indicator_cache.activate(cache)
    cache.set_dataset(data)
    return data


def probe(isolation: dict[str, Any]) -> dict[str, Any]:
    """What a call's process sees (trusted code only): uid, limits, network, files."""
    try:
        interfaces = sorted(name for _, name in socket.if_nameindex())
    except OSError:
        interfaces = []
    visible = [p for p in HOST_PROBES if os.path.lexists(p)]
    return dict(
        isolation,
        ok=True,
        uid=os.getuid(),
        interfaces=interfaces,
        host_paths_visible=visible,
        filesystem_readonly=bool(os.statvfs("/").f_flag & os.ST_RDONLY),
        rlimits={
            name: resource.getrlimit(kind)[1]
            for name, kind in (
                ("as", resource.RLIMIT_AS),
                ("cpu", resource.RLIMIT_CPU),
                ("fsize", resource.RLIMIT_FSIZE),
                ("nofile", resource.RLIMIT_NOFILE),
                ("nproc", resource.RLIMIT_NPROC),
            )
        },
    )


def _handle(header: dict[str, Any], arrays: dict[str, np.ndarray], isolation: dict[str, Any]):
    op = header.get("op")
    if op == "probe":
        return probe(isolation), None
    if op not in ("load", "signals"):
        return {"ok": False, "reason": "sandbox:protocol",
                "error": {"message": f"unknown op {op!r}"}}, None  # fmt: skip
    worker = Worker(str(header.get("code", "")))
    if op == "load":
        return worker.load(), None
    if any(k not in arrays for k in OHLCV_KEYS):
        raise StrategyFailure("execution:error", "no OHLCV data sent with the signals request")
    data = read_only_data(arrays)
    first, second = worker.signals(data, list(header.get("params_list", [])))
    if first.dtype == np.float64:
        return {"ok": True, "grid": True}, {"center": first, "step": second}
    packed = {"entries": np.packbits(first, axis=1), "exits": np.packbits(second, axis=1)}
    return {"ok": True}, packed


def indicator_cache_bytes(as_limit: int) -> int:
    """Bound of a call's indicator cache for an ``RLIMIT_AS`` of ``as_limit`` bytes.

    ``INDICATOR_CACHE_BYTES`` (256 MiB), but at most half of what remains of the address space
    after ``_RESERVED_AS_BYTES`` (400 MiB), so a cache never pushes a strategy into
    ``sandbox:memory``; ``0`` (nothing cached) below 400 MiB. ``RLIM_INFINITY`` -> default.
    """
    if as_limit == resource.RLIM_INFINITY or as_limit < 0:
        return INDICATOR_CACHE_BYTES
    return max(0, min(INDICATOR_CACHE_BYTES, (as_limit - _RESERVED_AS_BYTES) // 2))


def serve_call(request_fd: int, reply_fd: int, isolation: dict[str, Any]) -> None:
    """Read one request from ``request_fd``, answer it on ``reply_fd`` (one call's process).

    The request is read to its end (and its pipe closed) before any strategy code runs.
    """
    with os.fdopen(request_fd, "rb", buffering=0) as stream:
        header, arrays = wire.read_message(stream)
    out = None
    try:
        reply, out = _handle(header, arrays, isolation)
    except BaseException as exc:  # noqa: BLE001 - strategy code may raise anything
        fail = _failure(exc)
        error = {"type": fail.exc_type, "message": fail.message, "line": fail.line}
        reply = {"ok": False, "reason": fail.reason, "error": error}
    with os.fdopen(reply_fd, "wb") as stream:
        wire.write_message(stream, reply, out)
