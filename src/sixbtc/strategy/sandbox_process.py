"""Starting the sandbox zygote and making calls through it (parent side).

Used by :class:`sixbtc.strategy.sandbox.StrategySandbox` (see its module notes for the
whole safety model). Everything here runs in the parent, except :func:`limit_zygote`,
which runs in the forked child before ``exec`` (``preexec_fn``).

Sources: ``setrlimit(2)``, ``unix(7)`` (``SCM_RIGHTS``), ``pipe(7)`` (Linux man-pages).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sixbtc.core.errors import ConfigError
from sixbtc.strategy import wire

if TYPE_CHECKING:
    from sixbtc.config.sections import ValidatorSection

#: Largest JSON header accepted from a call (bytes): replies are small (errors are cut
#: to 1,000 characters), so a flood is refused before it is read.
MAX_REPLY_HEADER_BYTES = 256 * 1024
#: Seconds the zygote gets to report a child's end after the parent asked for it.
_REAP_GRACE_S = 5.0
_MIB = 1024 * 1024
#: Age (s) below which a ``sixbtc-sandbox-*`` folder is not considered stale.
_STALE_AGE_S = 60.0
#: Spares (call processes forked ahead of their call, one call each) a zygote keeps ready.
SPARES = 1
#: ``fcntl`` command that sets a pipe's capacity (``F_SETPIPE_SZ``, ``fcntl(2)``).
_F_SETPIPE_SZ = 1031


def _widen_pipe(fd: int, size: int) -> None:
    """Give a pipe room for ``size`` bytes (at most 1 MiB, the default
    ``/proc/sys/fs/pipe-max-size``; a refusal keeps the default 64 KiB), so a message is
    written without waiting for the other side to drain the pipe (each wait is a context
    switch, milliseconds on a loaded machine)."""
    if size > 65536:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, _F_SETPIPE_SZ, min(size, 1 << 20))


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of the sandbox.

    Attributes
    ----------
    wall_s : float
        Wall-clock limit per call (seconds).
    cpu_s : int
        ``RLIMIT_CPU`` of each call's process (CPU seconds; SIGXCPU at ``cpu_s``, SIGKILL
        5 s later).
    memory_mb : int
        ``RLIMIT_AS`` (address space, MiB) of the zygote and of each call's process. The
        zygote (numpy + pandas + TA-Lib, never numba) boots with 300 MiB but not 200 MiB;
        the rest is for the strategy.
    file_size_mb : int
        ``RLIMIT_FSIZE`` (MiB).
    open_files : int
        ``RLIMIT_NOFILE``.
    allow_unisolated : bool
        Run strategy code even where the namespaces of the minimal root cannot be created
        (UNSAFE: host files readable, files can carry state between calls). Default
        ``False``: :class:`~sixbtc.core.errors.ConfigError` instead
        (``validator.allow_unisolated_sandbox``).

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
    allow_unisolated: bool = False

    @classmethod
    def from_section(cls, v: ValidatorSection) -> SandboxLimits:
        """The limits of the ``validator`` settings section (``wall_s``, ``memory_mb``,
        ``allow_unisolated_sandbox``; the other limits keep their defaults)."""
        return cls(wall_s=v.wall_s, memory_mb=v.memory_mb, allow_unisolated=v.allow_unisolated_sandbox)

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
        if not isinstance(self.allow_unisolated, bool):
            raise ConfigError(
                f"sandbox limits: allow_unisolated must be a bool, got {self.allow_unisolated!r}"
            )


def limit_zygote(limits: SandboxLimits) -> None:
    """``preexec_fn``: address space, file size, open files and core limits of the zygote.

    Only C calls (``subprocess`` warns that ``preexec_fn`` may deadlock in a threaded parent
    when it takes locks). The CPU and process limits are set per call, in each child.
    """
    for kind, value in (
        (resource.RLIMIT_AS, limits.memory_mb * _MIB),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * _MIB),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(kind, (value, value))


def expected_rlimits(limits: SandboxLimits) -> dict[str, int]:
    """Hard limits a call's process must report in the probe (checked by the parent)."""
    return {"as": limits.memory_mb * _MIB, "cpu": limits.cpu_s + 5,
            "fsize": limits.file_size_mb * _MIB, "nofile": limits.open_files, "nproc": 0}  # fmt: skip


def classify_exit(returncode: int | None) -> tuple[str, str]:
    """Map a call process's return code (``None``: unknown) to ``(reason, detail)``,
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


_stale_removed = False


def _cwds_in_use() -> set[str]:
    """Working directories of the live processes this uid can see (``/proc/*/cwd``)."""
    cwds = set()
    with contextlib.suppress(OSError):
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                with contextlib.suppress(OSError):
                    cwds.add(os.path.realpath(os.readlink(f"/proc/{pid}/cwd")))
    return cwds


def remove_stale_folders(root: str | None = None) -> int:
    """Remove ``sixbtc-sandbox-*`` temporary folders of earlier versions (once per process).

    Versions before the zygote gave every worker a host temporary folder as its cwd, which
    leaked on ``kill -9`` and on SIGINT/SIGTERM; the zygote has none (its cwd is ``/`` of
    the minimal root). Only folders owned by this uid, older than a minute and not the cwd
    of a live process (an old-version worker still running) are removed. ``root`` defaults to the temporary
    directory (``tempfile.gettempdir()``); an explicit ``root`` is always scanned.
    Returns how many were removed.
    """
    global _stale_removed
    if _stale_removed and root is None:
        return 0
    _stale_removed = _stale_removed or root is None
    root, removed = root or tempfile.gettempdir(), 0
    with contextlib.suppress(OSError):
        stale = [os.path.join(root, n) for n in os.listdir(root) if n.startswith("sixbtc-sandbox-")]
        in_use = _cwds_in_use() if stale else set()
        for path in stale:
            info = os.stat(path)
            young = time.time() - info.st_mtime < _STALE_AGE_S  # an old worker about to start
            if info.st_uid == os.getuid() and not young and os.path.realpath(path) not in in_use:
                shutil.rmtree(path, ignore_errors=True)
                removed += not os.path.exists(path)
    return removed


class CallFailed(Exception):
    """A call got no valid reply; ``returncode`` is its process's (``None``: unknown)."""

    def __init__(self, returncode: int | None, detail: str) -> None:
        super().__init__(detail)
        self.returncode, self.detail = returncode, detail


class _Spare:
    """A call's process forked ahead of its call: its pid (zygote's view), socket, pidfd."""

    def __init__(self, pid: int, sock: socket.socket, pidfd: int) -> None:
        self.pid, self.sock, self.pidfd = pid, sock, pidfd

    def exited(self, timeout_s: float = 0.0) -> bool:
        poller = select.poll()
        poller.register(self.pidfd, select.POLLIN)
        return bool(poller.poll(timeout_s * 1000))

    def stopped(self, timeout_s: float) -> bool:
        """``True`` once the process has exited (its pidfd is readable: ``exit_notify`` runs
        after ``exit_files``), so every fd, lock and socket it held is released.

        Merely *exiting* (``PF_EXITING``) is not enough: the kernel closes a dying task's
        files only after tearing down its memory, and until then an OFD lock or a bound
        abstract socket of the previous call is still there for the next one to see.
        """
        return self.exited(timeout_s)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError, OSError):
            signal.pidfd_send_signal(self.pidfd, sig)

    def close(self) -> None:
        self.sock.close()
        os.close(self.pidfd)


class ZygoteProcess:
    """The started zygote: process, control socket, spares and the call protocol.

    Parameters
    ----------
    limits : SandboxLimits
    pandas : bool
        Preload pandas in the zygote (``False``: a lean numpy-only zygote).
    spares : int
        Spares to keep ready (:data:`SPARES`, at least 1).

    Raises
    ------
    OSError, subprocess.SubprocessError
        When the process cannot be started (the caller turns this into ``ConfigError``).

    Notes
    -----
    The zygote keeps a pool of ``spares`` *spares* (processes forked ahead of their call,
    each used for one call only) in this process's hands, refilled in the background: a
    spare taken for a call is replaced at once, and the zygote forks the replacement while
    the call runs. Request and reply pipes are widened to the message's size (at most
    1 MiB) so neither side waits for the other to drain them. :meth:`call` waits until the
    previous call's process has exited, gives the spare two fresh pipes (``SCM_RIGHTS``),
    writes the request and reads one reply under a ``time.monotonic()`` deadline
    (``TimeoutError``), refusing headers over
    :data:`MAX_REPLY_HEADER_BYTES` and payloads over ``max_payload`` bytes before reading
    them, then kills the call's process (pidfd). So calls never overlap and the zygote
    never sees a request or a reply. :meth:`kill` SIGKILLs the zygote's process group.
    """

    def __init__(self, limits: SandboxLimits, pandas: bool = True, spares: int = SPARES) -> None:
        remove_stale_folders()
        self.spares = max(1, int(spares))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {"cpu_s": limits.cpu_s, "file_size_mb": limits.file_size_mb,
                  "open_files": limits.open_files, "pandas": pandas}  # fmt: skip
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # fmt: skip
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [sys.executable, "-I", "-m", "sixbtc.strategy.sandbox_zygote", json.dumps(config)],
                stdin=theirs.fileno(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=env, cwd="/", close_fds=True, start_new_session=True,
                preexec_fn=lambda: limit_zygote(limits),  # noqa: PLW1509
            )  # fmt: skip
        finally:
            theirs.close()
        self.sock = ours
        self.hello: dict[str, Any] | None = None
        self.probe: dict[str, Any] | None = None
        self._spares: list[_Spare] = []
        self._asked = 0  # spares asked for and not received yet
        self._last: _Spare | None = None  # the previous call's process (killed)
        self._exits: dict[int, int] = {}  # pid -> waitpid status, reported by the zygote

    # ------------------------------------------------------------------ control socket
    def receive(self, deadline: float) -> dict[str, Any]:
        """Next control message (``TimeoutError`` at ``deadline``, ``EOFError`` if closed)."""
        poller = select.poll()
        poller.register(self.sock.fileno(), select.POLLIN)
        if not wire.wait_ready(poller, deadline):
            raise TimeoutError
        raw, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, 2)
        if not raw:
            raise EOFError("the sandbox zygote closed its control socket")
        try:
            message = json.loads(raw)
        except ValueError as exc:
            raise EOFError(f"malformed control message: {exc}") from None
        op, pid = message.get("op"), message.get("pid")
        if op == "spare" and isinstance(pid, int) and len(fds) == 2:
            self._asked -= 1
            self._spares.append(_Spare(pid, socket.socket(fileno=fds[0]), fds[1]))
        elif op == "exit" and isinstance(pid, int):
            self._exits[pid] = int(message.get("status", 0))
        else:
            for fd in fds:
                os.close(fd)
        return message

    def _drain(self) -> None:
        with contextlib.suppress(TimeoutError):
            while True:
                self.receive(time.monotonic())

    def _ask_spare(self) -> None:
        """Ask the zygote for spares until the pool (held + asked for) is full."""
        while self._asked + len(self._spares) < self.spares:
            self.sock.send(b'{"op": "spare"}')
            self._asked += 1

    def _take_spare(self, deadline: float) -> _Spare:
        self._ask_spare()
        while not self._spares:
            self.receive(deadline)
        spare = self._spares.pop(0)
        self._ask_spare()  # its replacement forks while this call runs
        return spare

    def returncode_of(self, pid: int, grace_s: float = _REAP_GRACE_S) -> int | None:
        """Return code of a call's process once the zygote reported its exit."""
        deadline = time.monotonic() + grace_s
        with contextlib.suppress(TimeoutError, EOFError, OSError):
            while pid not in self._exits:
                self.receive(deadline)
        status = self._exits.pop(pid, None)
        return None if status is None else os.waitstatus_to_exitcode(status)

    def _settle(self) -> None:
        """The previous call's process must be gone before the next call starts."""
        last, self._last = self._last, None
        if last is not None:
            gone = last.stopped(_REAP_GRACE_S)
            last.close()
            if not gone:
                raise CallFailed(None, "a finished call's process did not exit")
        self._drain()
        self._exits.clear()

    # ------------------------------------------------------------------ calls
    def call(self, payload: bytes, deadline: float, max_payload: int):
        """Run one call in a fresh process; return ``(pid, header, arrays)`` of its reply.

        Raises
        ------
        TimeoutError
            No complete reply by ``deadline`` (the call's process is killed).
        CallFailed
            The process died or sent a malformed/oversized reply.
        """
        try:
            self._settle()
            spare = self._start(deadline)
        except (TimeoutError, EOFError, OSError) as exc:  # the zygote itself failed
            raise CallFailed(None, f"the sandbox zygote gave no process for the call: {exc!r}") from None
        req_r, req_w = os.pipe2(os.O_CLOEXEC)
        rep_r, rep_w = os.pipe2(os.O_CLOEXEC)
        _widen_pipe(req_w, len(payload))
        _widen_pipe(rep_w, max_payload)
        try:
            socket.send_fds(spare.sock, [b"go"], [req_r, rep_w])
        except OSError:
            spare.kill()
        finally:
            os.close(req_r)
            os.close(rep_w)
        self._last = spare
        try:
            header, arrays = self._exchange(req_w, rep_r, payload, deadline, max_payload)
        except TimeoutError:
            spare.kill()
            raise
        except (wire.WireError, OSError) as exc:
            spare.kill()
            code = self.returncode_of(spare.pid)
            raise CallFailed(code, f"invalid reply or broken pipe: {exc}") from None
        spare.kill()  # done: nothing of the strategy runs after its reply
        return spare.pid, header, arrays

    def _start(self, deadline: float) -> _Spare:
        """A live spare, continued (an earlier call may have stopped it)."""
        while True:
            spare = self._take_spare(deadline)
            if not spare.exited():
                spare.kill(signal.SIGCONT)
                return spare
            spare.close()  # killed by an earlier call (same uid): take the next one

    def _exchange(self, req_w: int, rep_r: int, payload: bytes, deadline: float, cap: int):
        try:
            os.set_blocking(req_w, False)
            with contextlib.suppress(BrokenPipeError):  # the child died early: see its status
                wire.write_all(req_w, payload, deadline)
            os.close(req_w)
            req_w = -1
            reader = wire.DeadlineReader(rep_r, deadline)
            return wire.read_message(
                reader, max_header_bytes=MAX_REPLY_HEADER_BYTES, max_payload_bytes=cap
            )
        finally:
            if req_w >= 0:
                os.close(req_w)
            os.close(rep_r)

    def kill(self) -> None:
        """SIGKILL the zygote's process group (and every call's process) and reap it."""
        for spare in [*self._spares, *([self._last] if self._last else [])]:
            spare.kill()
            spare.close()
        self._spares, self._last = [], None
        self.sock.close()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
