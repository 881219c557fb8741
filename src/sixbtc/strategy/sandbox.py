"""Run untrusted strategy code in isolated, single-use processes (parent side).

One :class:`StrategySandbox` owns at most one *zygote* process
(``python -I -m sixbtc.strategy.sandbox_zygote``, :mod:`sixbtc.strategy.sandbox_zygote`):
a clean template that imports numpy, pandas, TA-Lib and the indicator library, isolates
itself, **never runs strategy code** and forks one fresh process per call (every
:meth:`~StrategySandbox.load` and every :meth:`~StrategySandbox.signals`). So every call
starts from the same clean interpreter state: module or class attributes set by a strategy
(``np.x = ...``, ``ind.sma = ...``), mutable defaults, the indicator cache, anything in its
memory dies with the call, and no earlier call's code, data or result is in the memory a
call starts from (the zygote never reads requests or replies; they go through per-call
pipes between this process and the call's process).

Isolation (:mod:`sixbtc.strategy.sandbox_namespaces`, per zygote, shared by its calls):

* new mount, network (loopback only, down), IPC, UTS and PID namespaces, created as root
  or inside an unprivileged user namespace;
* a minimal root: only the interpreter and its libraries, bound read-only; no other host
  file (``/etc/passwd``, ``/home``, ``/tmp``, ``/proc``, the SixBTC home and its database,
  ``/root`` beyond the interpreter), and nothing writable, so files cannot carry state;
* a minimal environment (``PATH=/usr/bin:/bin``, single-threaded BLAS; no secrets), all
  fds closed, stdout/stderr to ``/dev/null``, its own session / process group;
* ``RLIMIT_AS`` (``memory_mb``), ``RLIMIT_FSIZE``, ``RLIMIT_NOFILE``, ``RLIMIT_CORE`` = 0;
  the zygote is non-dumpable (no ``ptrace``) and PID 1 of its PID namespace.

Per call, before the strategy's source is even read: ``RLIMIT_CPU`` (``cpu_s``, SIGXCPU
then SIGKILL 5 s later), ``RLIMIT_NPROC`` = 0 (no fork, no thread), a fresh IPC namespace
(SysV IPC / POSIX queues), uid/gid ``nobody`` when the zygote is root, a nested user
namespace (no capability over the shared namespaces; own keyrings),
``PR_SET_NO_NEW_PRIVS``, ``PR_SET_PDEATHSIG``, fds 0-2 on a ``/dev/null`` of its own, and
a seccomp filter (:mod:`sixbtc.strategy.sandbox_seccomp`): no new namespaces or mounts, no
kernel keyrings (the session keyring is the parent's), no ``ptrace`` and no signal to
another process, no socket outside ``AF_UNIX``/``AF_INET``/``AF_INET6``/``AF_NETLINK``
(``AF_VSOCK`` ignores network namespaces). Calls run one at a time.

Where the namespaces cannot be created (no root and no unprivileged user namespaces, e.g.
a container without CAP_SYS_ADMIN) the sandbox refuses to run strategy code:
``ConfigError``, unless ``SandboxLimits(allow_unisolated=True)``
(``validator.allow_unisolated_sandbox``), in which case calls still run in fresh processes
with the limits above but host files are readable and files written by one call are
visible to the next (:attr:`StrategySandbox.isolation` is then ``"none"``).

Calls have a wall-clock limit (``wall_s``): on expiry the call's process is killed and
``StrategyRejected("sandbox:timeout")`` raised; the zygote survives. A zygote that does not
answer is killed with its whole process group (SIGKILL) and the next call starts a new one.
The zygote dies with this process (end of file on its control socket; its children by
``PR_SET_PDEATHSIG`` and with their PID namespace). Replies are never unpickled: see
:mod:`sixbtc.strategy.wire`.

Known limits: timing side channels through shared kernel caches (e.g. the page cache of
the read-only libraries) are not closed; on architectures without a seccomp table
(:attr:`StrategySandbox.syscall_filter` ``"unsupported: ..."``) calls keep the kernel
keyrings (the parent's session keyring), namespace creation and signals to same-uid
processes; the in-process builtins filter is a quality filter, not a security boundary.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import numpy as np

from sixbtc.core.errors import ConfigError, DataError, StrategyRejected
from sixbtc.strategy import wire
from sixbtc.strategy.contract import OHLCV_KEYS, StrategySpec
from sixbtc.strategy.inputs import data_keys, is_extra_key
from sixbtc.strategy.sandbox_process import (
    SPARES,
    CallFailed,
    SandboxLimits,
    ZygoteProcess,
    classify_exit,
    expected_rlimits,
)

__all__ = ["MAX_SOURCE_CHARS", "SandboxLimits", "StrategySandbox"]

_STARTUP_S = 30.0
#: Longest strategy source accepted (characters); generated strategies are a few KB.
MAX_SOURCE_CHARS = 200_000


def _grid_reply(out: dict[str, np.ndarray], shape: tuple[int, int], expected: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(center, step)`` of a grid reply, checked (float64, ``shape``, no inf)."""
    arrays = [out.get(name) for name in ("center", "step")]
    if not expected or any(a is None or a.dtype != np.float64 or a.shape != shape or np.isinf(a).any()
                           for a in arrays):
        raise StrategyRejected("sandbox:crashed", "grid signals reply has missing or mis-shaped arrays")
    return arrays[0], arrays[1]


def _array(key: str, value: object, dtype: type) -> np.ndarray:
    try:
        arr = np.ascontiguousarray(value, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"data[{key!r}] is not numeric: {exc}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise DataError(f"data[{key!r}] must have shape (n_bars,) with n_bars >= 1, got {arr.shape}")
    return arr


def _check_data(data: dict[str, np.ndarray], needed: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Return contiguous arrays of one length: float64 OHLCV, the extra inputs present
    (:func:`sixbtc.strategy.inputs.is_extra_key`; ``open_time`` int64, the rest float64),
    or raise ``DataError``. ``needed`` are extra keys that must be present."""
    if not isinstance(data, dict):
        raise DataError(f"data must be a dict of OHLCV arrays, got {type(data).__name__}")
    out: dict[str, np.ndarray] = {}
    for key in (*OHLCV_KEYS, *needed):
        if key not in data:
            what = "the declared input" if key in needed else "the"
            raise DataError(f"data is missing {what} {key!r} array")
    for key in OHLCV_KEYS:
        out[key] = _array(key, data[key], np.float64)
    for key in data:
        if key not in out and isinstance(key, str) and is_extra_key(key):
            out[key] = _array(key, data[key], np.int64 if key == "open_time" else np.float64)
    if len({a.shape for a in out.values()}) != 1:
        raise DataError(f"data arrays differ in length: { {k: len(a) for k, a in out.items()} }")
    return out


class StrategySandbox:
    """Loads one strategy at a time and computes its signals, each call in a fresh process.

    Parameters
    ----------
    limits : SandboxLimits
    fresh_worker_per_load, keep_spare : bool
        Accepted for compatibility; no effect. Every call runs in its own process forked
        from a zygote that never runs strategy code, so a strategy can leave no state for
        the next strategy (or the next call) and the zygote is kept for all of them.
    spares : int
        Call processes each zygote keeps forked ahead of their calls (a pool, refilled in
        the background; each process serves one call):
        :data:`sixbtc.strategy.sandbox_process.SPARES` by default.

    Attributes
    ----------
    isolation : str or None
        ``"root"``, ``"userns"`` or ``"none"`` (see the module notes); ``None`` before the
        zygote started.
    network_isolated, filesystem_readonly, filesystem_isolated, unprivileged, nested_userns
        What the probe call of the current zygote saw (``None`` before it started).
    syscall_filter : str or None
        ``"on"`` or ``"unsupported: <machine>"`` (:mod:`sixbtc.strategy.sandbox_seccomp`).
    starts : int
        Zygotes started.

    Notes
    -----
    Use as a context manager or call :meth:`close`. Not thread-safe: one sandbox per
    thread. Per-call overhead and throughput: ``benchmarks/bench_validator.py``.
    """

    def __init__(
        self,
        limits: SandboxLimits = SandboxLimits(),
        *,
        fresh_worker_per_load: bool = True,
        keep_spare: bool = False,
        spares: int = SPARES,
    ) -> None:
        limits.check()
        self.limits = limits
        self._spares = spares
        self.fresh_worker_per_load = fresh_worker_per_load
        self.keep_spare = keep_spare
        self.isolation: str | None = None
        self.network_isolated: bool | None = None
        self.filesystem_readonly: bool | None = None
        self.filesystem_isolated: bool | None = None
        self.unprivileged: bool | None = None
        self.nested_userns: bool | None = None
        self.syscall_filter: str | None = None
        self.starts = 0
        self._zygotes: dict[bool, ZygoteProcess] = {}  # by "preloads pandas"
        self._pandas = True  # the loaded strategy's source mentions pandas
        self._code: str | None = None
        self.inputs: tuple[str, ...] = ()  # the loaded strategy's declared inputs
        self._grid = False

    @property
    def worker_pid(self) -> int | None:
        """Process id of the current zygote (``None`` before the first call)."""
        worker = self._zygotes.get(self._pandas)
        return worker.proc.pid if worker is not None else None

    def __enter__(self) -> StrategySandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- process control
    def _boot(self) -> ZygoteProcess | None:
        self.starts += 1
        try:
            worker = ZygoteProcess(self.limits, pandas=self._pandas, spares=self._spares)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ConfigError(f"cannot start the sandbox zygote: {exc}") from None
        deadline = time.monotonic() + max(_STARTUP_S, self.limits.wall_s)
        try:
            worker.hello = worker.receive(deadline)
            _, probe, _ = worker.call(wire.encode_message({"op": "probe"}), deadline, 0)
        except (TimeoutError, EOFError, CallFailed, wire.WireError, OSError):
            worker.kill()
            return None
        self._accept(worker, probe)
        return worker

    def _accept(self, worker: ZygoteProcess, probe: dict[str, Any]) -> None:
        """Check the probe of a new zygote; raise ``ConfigError`` if it is not isolated."""
        mode, why = worker.hello.get("mode"), worker.hello.get("isolation_error")  # type: ignore[union-attr]
        if probe.get("rlimits") != expected_rlimits(self.limits):
            worker.kill()
            raise ConfigError(f"sandbox runs without the expected limits: {probe.get('rlimits')}")
        if mode == "none" and not self.limits.allow_unisolated:
            worker.kill()
            raise ConfigError(
                f"sandbox isolation is unavailable here ({why}); strategy code is not run "
                "without it. Run as root or enable unprivileged user namespaces, or set "
                "validator.allow_unisolated_sandbox: true to run it anyway (unsafe: host "
                "files become readable to strategy code)"
            )
        visible = probe.get("host_paths_visible")
        if mode != "none" and visible:
            worker.kill()
            raise ConfigError(f"sandbox minimal root still shows host paths: {visible}")
        syscall_filter = str(probe.get("syscall_filter"))
        if syscall_filter.startswith("failed") and not self.limits.allow_unisolated:
            worker.kill()
            raise ConfigError(
                f"sandbox system-call filter cannot be installed ({syscall_filter}); strategy "
                "code is not run without it (validator.allow_unisolated_sandbox: true to run "
                "it anyway)"
            )
        self.syscall_filter = syscall_filter
        worker.probe = probe
        self.isolation = str(mode)
        self.network_isolated = probe.get("interfaces") == ["lo"]
        self.filesystem_readonly = bool(probe.get("filesystem_readonly"))
        self.filesystem_isolated = mode != "none" and not visible
        self.unprivileged = probe.get("uid") != 0
        self.nested_userns = bool(probe.get("nested_userns"))

    def _acquire(self) -> ZygoteProcess:
        """The zygote for the current strategy, booted (one retry).

        Two kinds, each started when first needed: a lean one (numpy, TA-Lib, indicators)
        for source that never mentions pandas — a third of the memory, so cheaper calls —
        and one that also preloads pandas.
        """
        if self._pandas not in self._zygotes:
            for _ in range(2):
                worker = self._boot()
                if worker is not None:
                    self._zygotes[self._pandas] = worker
                    break
            else:
                raise ConfigError(
                    f"sandbox zygote failed to start twice (memory_mb={self.limits.memory_mb}, "
                    f"open_files={self.limits.open_files})"
                )
        return self._zygotes[self._pandas]

    def _kill(self) -> None:
        worker = self._zygotes.pop(self._pandas, None)
        if worker is not None:
            worker.kill()

    def close(self) -> None:
        """Stop the zygotes (and any call process); nothing is left on the host."""
        zygotes, self._zygotes = list(self._zygotes.values()), {}
        for worker in zygotes:
            worker.kill()

    # ----------------------------------------------------------------- messaging
    def _request(self, header: dict[str, Any], arrays=None, max_payload: int = 1 << 20):
        """Run one call and return ``(header, arrays)`` of an ok reply, else raise."""
        worker = self._acquire()
        payload = wire.encode_message(header, arrays)
        deadline = time.monotonic() + self.limits.wall_s
        try:
            _, reply, out = worker.call(payload, deadline, max_payload)
        except TimeoutError:
            raise StrategyRejected(
                "sandbox:timeout", f"no reply within {self.limits.wall_s} s"
            ) from None
        except CallFailed as exc:
            if exc.returncode is None:
                self._kill()  # the zygote did not report the call's end: start afresh
            reason, why = classify_exit(exc.returncode)
            raise StrategyRejected(reason, f"{why}; {exc.detail}") from None
        except OSError as exc:  # the zygote died (control socket closed)
            self._kill()
            raise StrategyRejected("sandbox:crashed", f"sandbox zygote lost: {exc}") from None
        if reply.get("ok") is True:
            return reply, out
        reason, error = reply.get("reason"), reply.get("error")
        if not isinstance(reason, str) or not isinstance(error, dict):
            raise StrategyRejected("sandbox:crashed", "malformed error reply")
        where = f" (line {error.get('line')})" if isinstance(error.get("line"), int) else ""
        raise StrategyRejected(
            reason, f"{error.get('type', '')}: {error.get('message', '')}{where}"
        )

    # ----------------------------------------------------------------- public API
    def load(self, code: str) -> StrategySpec:
        """Execute strategy source in a fresh call process and return its declared spec.

        The source is kept and re-executed in the fresh process of every :meth:`signals`
        call.

        Parameters
        ----------
        code : str
            Python source implementing :mod:`sixbtc.strategy.contract`.

        Returns
        -------
        StrategySpec

        Raises
        ------
        StrategyRejected
            ``execution:error`` (syntax error, exception at import/class creation),
            ``contract:*`` (no/several ``Strategy_*`` classes, invalid declarations,
            ``contract:source`` for non-str or > ``MAX_SOURCE_CHARS`` source),
            ``sandbox:timeout`` / ``sandbox:crashed`` / ``sandbox:memory``.
        """
        if not isinstance(code, str):
            raise StrategyRejected(
                "contract:source", f"code must be str, not {type(code).__name__}"
            )
        if len(code) > MAX_SOURCE_CHARS:
            raise StrategyRejected(
                "contract:source", f"source longer than {MAX_SOURCE_CHARS} chars"
            )
        self._code, self.inputs = None, ()
        self._pandas = "pandas" in code
        reply, _ = self._request({"op": "load", "code": code})
        self._code, self._grid = code, False
        name, declared = reply.get("class_name"), reply.get("declared")
        if not (
            isinstance(name, str) and name.startswith("Strategy_") and isinstance(declared, dict)
        ):
            raise StrategyRejected("sandbox:crashed", "malformed load reply")
        try:
            spec = StrategySpec.from_declared(name, declared)
        except ValueError as exc:
            raise StrategyRejected("contract:invalid_spec", str(exc)) from None
        self.inputs = spec.inputs
        self._grid = spec.is_grid
        return spec

    def signals(
        self, data: dict[str, np.ndarray], params_list: list[dict]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Compute entries/exits of the loaded strategy for several parameter sets.

        Parameters
        ----------
        data : dict of str -> numpy.ndarray
            ``open high low close volume``, float64, shape ``(n_bars,)`` each, plus the
            extra inputs (:mod:`sixbtc.strategy.inputs`; ``open_time`` int64); the loaded
            strategy's declared inputs must be present, other keys are ignored. Sent with every call (the call's process starts from the
            zygote, which never holds data).
        params_list : list of dict
            ``n_params >= 1`` JSON-serialisable parameter sets.

        Returns
        -------
        entries, exits : numpy.ndarray
            bool, shape ``(n_params, n_bars)``; for a grid strategy (``GRD``) ``center, step``,
            float64 of that shape (:mod:`sixbtc.strategy.signal_pairs`).

        Raises
        ------
        DataError
            Missing/ragged/non-numeric OHLCV or declared input arrays.
        ValueError
            ``params_list`` empty or not a list of dicts; no strategy loaded.
        StrategyRejected
            ``execution:error``, ``execution:bad_output``, ``sandbox:timeout``,
            ``sandbox:crashed``, ``sandbox:memory``.
        """
        ohlcv = _check_data(data, data_keys(self.inputs))
        if (
            not isinstance(params_list, list)
            or not params_list
            or not all(isinstance(p, dict) for p in params_list)
        ):
            raise ValueError("params_list must be a non-empty list of parameter dicts")
        try:
            json.dumps(params_list, default=wire.json_default)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"params_list must be JSON-serialisable: {exc}") from None
        if self._code is None:
            raise ValueError("no strategy loaded: call load(code) first")
        n_params, n_bars = len(params_list), len(ohlcv["close"])
        budget = 2 * n_params * (8 * n_bars if self._grid else (n_bars + 7) // 8) + 4096
        header = {"op": "signals", "code": self._code, "params_list": params_list}
        reply, out = self._request(header, ohlcv, budget)
        if self._grid or reply.get("grid") is True:
            return _grid_reply(out, (n_params, n_bars), self._grid)
        packed_shape = (n_params, (n_bars + 7) // 8)
        signals = []
        for name in ("entries", "exits"):
            arr = out.get(name)
            if arr is None or arr.dtype != np.uint8 or arr.shape != packed_shape:
                raise StrategyRejected(
                    "sandbox:crashed", "signals reply has missing or mis-shaped arrays"
                )
            signals.append(np.unpackbits(arr, axis=1, count=n_bars).view(np.bool_))
        return signals[0], signals[1]
