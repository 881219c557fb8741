"""Starting one sandbox worker process: limits, namespaces, the process handle.

Used by :class:`sixbtc.strategy.sandbox.StrategySandbox` (see its module notes for the
whole safety model). Everything here runs in the parent, except :func:`limit_child`,
which runs in the forked child before ``exec`` (``preexec_fn``).

Sources: ``setrlimit(2)``, ``unshare(2)``, ``mount_setattr(2)`` (Linux man-pages).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

from sixbtc.core.errors import ConfigError
from sixbtc.strategy import wire

# Linux constants (uapi: sched.h, mount.h, fcntl.h; mount_setattr is 442 on every arch).
CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
SYS_MOUNT_SETATTR = 442
AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1
MS_PRIVATE = 1 << 18
#: Largest JSON header accepted from a worker (bytes): replies are small (errors are cut
#: to 1,000 characters), so a flood is refused before it is read.
MAX_REPLY_HEADER_BYTES = 256 * 1024


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one sandbox worker.

    Attributes
    ----------
    wall_s : float
        Wall-clock limit per call (seconds).
    cpu_s : int
        ``RLIMIT_CPU`` of the worker (CPU seconds, cumulative over the worker's life; the
        worker is recycled after half of it).
    memory_mb : int
        ``RLIMIT_AS`` (address space, MiB). The worker (numpy + pandas + TA-Lib, never
        numba) boots with 300 MiB but not 200 MiB; the rest is for the strategy.
    file_size_mb : int
        ``RLIMIT_FSIZE`` (MiB).
    open_files : int
        ``RLIMIT_NOFILE``.

    Raises
    ------
    ConfigError
        From :meth:`check` when a limit is not positive.
    """

    wall_s: float = 30.0
    cpu_s: int = 60
    memory_mb: int = 1024
    file_size_mb: int = 1
    open_files: int = 64

    def check(self) -> None:
        """Raise ``ConfigError`` naming the first limit that is not positive (ints but wall_s)."""
        for name in ("wall_s", "cpu_s", "memory_mb", "file_size_mb", "open_files"):
            value = getattr(self, name)
            kind = int | float if name == "wall_s" else int
            if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
                raise ConfigError(
                    f"sandbox limits: {name} must be a positive "
                    f"{'number' if name == 'wall_s' else 'int'}, got {value!r}"
                )


class _MountAttr(ctypes.Structure):
    """``struct mount_attr`` of ``mount_setattr(2)`` (Linux >= 5.12)."""

    _fields_ = [(name, ctypes.c_uint64) for name in ("attr_set", "attr_clr", "propagation", "userns_fd")]  # fmt: skip


_READ_ONLY_PRIVATE = _MountAttr(MOUNT_ATTR_RDONLY, 0, MS_PRIVATE, 0)


def _resolve_libc():
    """``unshare(2)`` and ``syscall(2)`` resolved once in the parent (no ``dlopen`` after fork)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare, libc.syscall
    except (OSError, AttributeError):
        return None, None


_UNSHARE, _SYSCALL = _resolve_libc()


def _isolate_namespaces() -> None:
    """New network namespace; new mount namespace with every mount read-only.

    Each step needs CAP_SYS_ADMIN; a failure leaves that resource shared (documented
    fallback, reported by the worker). ``mount_setattr`` runs only after a successful
    ``unshare(CLONE_NEWNS)``, so the host's mounts are never touched.
    """
    if _UNSHARE is None:
        return
    _UNSHARE(CLONE_NEWNET)
    if _UNSHARE(CLONE_NEWNS) == 0 and _SYSCALL is not None:
        size = ctypes.sizeof(_READ_ONLY_PRIVATE)
        _SYSCALL(
            SYS_MOUNT_SETATTR, AT_FDCWD, b"/", AT_RECURSIVE, ctypes.byref(_READ_ONLY_PRIVATE), size
        )


def limit_child(limits: SandboxLimits) -> None:
    """``preexec_fn``: runs in the forked child before ``exec``.

    Only C calls on pre-resolved functions (``subprocess`` warns that ``preexec_fn`` may
    deadlock in a threaded parent when it takes locks such as the dynamic loader's).
    """
    mib = 1024 * 1024
    for kind, value in (
        (resource.RLIMIT_AS, limits.memory_mb * mib),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * mib),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(kind, (value, value))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 5))
    _isolate_namespaces()
    if os.geteuid() != 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def expected_rlimits(limits: SandboxLimits) -> dict[str, int]:
    """Hard limits the worker must report in its hello (checked by the parent)."""
    mib = 1024 * 1024
    return {"as": limits.memory_mb * mib, "cpu": limits.cpu_s + 5,
            "fsize": limits.file_size_mb * mib, "nofile": limits.open_files}  # fmt: skip


def classify_exit(returncode: int | None) -> tuple[str, str]:
    """Map a dead worker's return code (``None``: still running) to ``(reason, detail)``,
    reason ``sandbox:timeout`` (SIGXCPU) or ``sandbox:crashed``."""
    if returncode is None:
        return "sandbox:crashed", "worker stopped answering"
    if returncode == -signal.SIGXCPU:
        return "sandbox:timeout", "worker killed by SIGXCPU (CPU limit)"
    if returncode == -signal.SIGKILL:
        return "sandbox:crashed", "worker killed by SIGKILL (CPU hard limit or OOM killer)"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return "sandbox:crashed", f"worker killed by signal {name}"
    return "sandbox:crashed", f"worker exited with status {returncode}"


class WorkerProcess:
    """One started worker: the process, its temporary cwd and its protocol state.

    Parameters
    ----------
    limits : SandboxLimits
        Applied in the child by :func:`limit_child`.

    Raises
    ------
    OSError, subprocess.SubprocessError
        When the process cannot be started (the caller turns this into ``ConfigError``).

    Notes
    -----
    ``send``/``receive`` take a ``time.monotonic()`` deadline (s) and raise
    ``TimeoutError`` at it; ``receive`` refuses headers over
    :data:`MAX_REPLY_HEADER_BYTES` and payloads over ``max_payload`` bytes before reading
    them. :meth:`kill` sends SIGKILL to the whole process group (the worker is a session
    leader), so nothing of the strategy runs after it (no ``atexit``, no ``__del__``).
    """

    def __init__(self, limits: SandboxLimits) -> None:
        self.tmpdir = tempfile.mkdtemp(prefix="sixbtc-sandbox-")
        os.chmod(self.tmpdir, 0o711)  # noqa: S103 - empty; lets the dropped uid resolve cwd
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # fmt: skip
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [sys.executable, "-I", "-m", "sixbtc.strategy.sandbox_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, cwd=self.tmpdir, close_fds=True, start_new_session=True,
            preexec_fn=lambda: limit_child(limits),  # noqa: PLW1509
        )  # fmt: skip
        os.set_blocking(self.proc.stdin.fileno(), False)  # type: ignore[union-attr]
        self.hello: dict[str, Any] | None = None
        self.code: str | None = None  # strategy source loaded in this worker
        self.data_digest: bytes | None = None  # BLAKE2b of the OHLCV cached in this worker

    def send(self, payload: bytes, deadline: float) -> None:
        wire.write_all(self.proc.stdin.fileno(), payload, deadline)  # type: ignore[union-attr]

    def receive(self, deadline: float, max_payload: int):
        reader = wire.DeadlineReader(self.proc.stdout.fileno(), deadline)  # type: ignore[union-attr]
        return wire.read_message(
            reader, max_header_bytes=MAX_REPLY_HEADER_BYTES, max_payload_bytes=max_payload
        )

    def exit_code(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        shutil.rmtree(self.tmpdir, ignore_errors=True)
