"""The sandbox zygote: a clean template process that forks one child per call.

Started only by :class:`sixbtc.strategy.sandbox_process.ZygoteProcess` as
``python -I -m sixbtc.strategy.sandbox_zygote CONFIG_JSON`` with the control socket
(``AF_UNIX``/``SOCK_SEQPACKET``) as fd 0. It

1. enters a new mount namespace (inside a new user namespace unless root:
   :func:`sixbtc.strategy.sandbox_namespaces.begin`), imports numpy, pandas, TA-Lib and
   the indicator library (:data:`PRELOADS`), then enters new network, IPC, UTS and PID
   namespaces and a minimal read-only root (:func:`~sixbtc.strategy.sandbox_namespaces.finish`)
   — or records why it could not;
3. forks the *zygote proper*, PID 1 of the new PID namespace (the first process stays
   behind and only waits for it): it is non-dumpable (``PR_SET_DUMPABLE`` 0, so no
   same-uid process can ``ptrace`` it or read its memory), dies with the first process
   (``PR_SET_PDEATHSIG``), and, as the namespace's init, cannot be signalled by its
   children; when it exits the kernel kills every process of the namespace;
4. sends a hello (``{op: hello, mode, isolation_error}``) and serves control messages.

The zygote **never executes strategy code and never reads a request or a reply**. It
forks *spares*: processes made ahead of their call, each blocked on a socket whose other
end it hands to the parent together with a pidfd (``SCM_RIGHTS``). For a call the parent
sends a spare ``go`` with the call's two fresh pipes; the spare reads the request (source,
parameters, OHLCV arrays) and writes the reply straight to the parent, which then kills it
through the pidfd and starts no other call before it has exited. So the memory a call
starts from holds the boot state only, never data, code or results of an earlier call, and
a call's changes (module attributes, class attributes, caches, the indicator cache) die
with it.

Control messages (JSON): parent → zygote ``{op: spare}`` (fork one; the zygote answers
``{op: spare, pid}`` + fds ``[socket, pidfd]``); zygote → parent ``{op: exit, pid, status}``
(the ``waitpid`` status) for every child it reaps. An end of file on the control socket
(the parent died or closed the sandbox) kills every child and ends the zygote.

Each spare closes every other fd (and opens ``/dev/null`` afresh for fds 0-2), sets ``PR_SET_PDEATHSIG`` (SIGKILL), the limits
``RLIMIT_CPU`` (per call), ``RLIMIT_FSIZE``, ``RLIMIT_NOFILE``, ``RLIMIT_CORE`` 0 and
``RLIMIT_NPROC`` 0 (no fork, no thread), enters a new IPC namespace of its own (SysV IPC
and POSIX message queues cannot carry state) and waits. Given its call, before reading
the request, it drops to uid/gid ``nobody`` (mode ``root``), enters a nested user
namespace (no capability over the shared namespaces, own keyrings), sets
``PR_SET_NO_NEW_PRIVS`` and installs the system-call filter
(:mod:`sixbtc.strategy.sandbox_seccomp`: no namespaces, mounts, keyrings, signals to other
processes, ``ptrace``, sockets outside ``AF_UNIX``/``AF_INET``/``AF_INET6``/``AF_NETLINK``).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import resource
import select
import signal
import socket
import sys
import traceback
from typing import Any

from sixbtc.strategy import sandbox_namespaces as ns
from sixbtc.strategy import sandbox_seccomp as seccomp

#: Imported after :func:`sixbtc.strategy.sandbox_namespaces.begin` (numpy/pandas start
#: threads, and a multi-threaded process cannot create a user namespace). A *lean* zygote
#: (config ``pandas: false``) skips pandas: a third of the memory, so each call's fork and
#: teardown cost less; a strategy that imports pandas anyway gets it imported in its call.
PRELOADS = ("math", "numpy", "pandas", "sixbtc.strategy.indicators",
            "sixbtc.strategy.sandbox_worker")  # fmt: skip
#: uid/gid a child of a root zygote switches to ("nobody" on Debian/Ubuntu).
NOBODY = 65534
_MIB = 1024 * 1024


def _limit_child(cfg: dict[str, Any]) -> None:
    for kind, value in (
        (resource.RLIMIT_FSIZE, cfg["file_size_mb"] * _MIB),
        (resource.RLIMIT_NOFILE, cfg["open_files"]),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NPROC, 0),
    ):
        resource.setrlimit(kind, (value, value))
    resource.setrlimit(resource.RLIMIT_CPU, (cfg["cpu_s"], cfg["cpu_s"] + 5))


def _drop(mode: str) -> dict[str, Any]:
    """Per-call privilege drop (once the call is given): uid ``nobody`` (mode ``root``), a
    nested user namespace, ``PR_SET_NO_NEW_PRIVS``, the system-call filter
    (:mod:`sixbtc.strategy.sandbox_seccomp`); returns what the probe reports of it."""
    if mode == "root":
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    nested = False
    if mode != "none":
        try:
            ns.unshare(ns.CLONE_NEWUSER, "unshare(CLONE_NEWUSER) per call")
            nested = True
        except ns.IsolationError:
            if mode == "userns":  # still uid 0 with capabilities over the shared namespaces
                raise
    ns.prctl(ns.PR_SET_NO_NEW_PRIVS, 1)
    try:
        syscall_filter = seccomp.install()
    except OSError as exc:  # reported by the probe: the parent refuses such a zygote
        syscall_filter = f"failed: {exc}"
    return {"mode": mode, "nested_userns": nested, "syscall_filter": syscall_filter}


def _close_other_fds(keep: list[int]) -> None:
    """Close every fd but ``keep`` and give fds 0-2 a ``/dev/null`` description of their own.

    fds 0-2 came from the zygote: one open file description shared with it and every other
    call, on which OFD/``flock`` locks, ``F_SETFL`` status flags and ``F_SETSIG``/
    ``F_SETOWN`` would outlive the call (``fcntl(2)``, ``open(2)``: "open file
    description").
    """
    low = 3
    for fd in sorted(k for k in keep if k >= 3):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _spare(sock_fd: int, cfg: dict[str, Any], mode: str, zygote: int) -> None:
    """Body of a call's process, forked ahead of its call: wait for the call's pipes from
    the parent, isolate, let the worker serve the request. Never returns."""
    status = 70
    try:
        _close_other_fds([sock_fd])
        ns.prctl(ns.PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != zygote:
            return
        _limit_child(cfg)
        if mode != "none":  # a SysV IPC / POSIX queue namespace of its own, for its call only
            ns.unshare(ns.CLONE_NEWIPC, "unshare(CLONE_NEWIPC) per call")
        worker = sys.modules["sixbtc.strategy.sandbox_worker"]
        sock = socket.socket(fileno=sock_fd)
        raw, fds, _flags, _addr = socket.recv_fds(sock, 16, 2)
        sock.close()
        if raw != b"go" or len(fds) != 2:
            return
        isolation = _drop(mode)  # only now: until its call a spare is immune to other calls
        worker.serve_call(fds[0], fds[1], isolation)
        status = 0
    finally:
        os._exit(status)  # no atexit, no __del__, no flush of anything the strategy left


class Zygote:
    """The serving loop of the zygote proper: forks spares on request, reports exits.

    A spare is forked from this (clean) process ahead of its call; its socket and a pidfd
    go to the parent, which hands it the call's pipes (``go``) only once the previous
    call's process has exited and kills it (pidfd) when the call is over. So this process
    never touches a call's input or output and no two calls ever run at once.
    """

    def __init__(self, ctl: socket.socket, cfg: dict[str, Any], mode: str) -> None:
        self.ctl, self.cfg, self.mode = ctl, cfg, mode
        self.zygote_pid = os.getpid()
        self.children: dict[int, int] = {}  # pid -> pidfd

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        raw = json.dumps(message).encode()
        if fds:
            socket.send_fds(self.ctl, [raw], fds)
        else:
            self.ctl.send(raw)

    def fork_spare(self) -> None:
        """Fork a spare and hand its socket and a pidfd to the parent."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            _spare(theirs.detach(), self.cfg, self.mode, self.zygote_pid)
        theirs.close()
        pidfd = os.pidfd_open(pid)
        self.children[pid] = pidfd
        handed = os.dup(pidfd)
        try:
            self.send({"op": "spare", "pid": pid}, [ours.fileno(), handed])
        finally:
            ours.close()
            os.close(handed)

    def reap(self, pid: int) -> None:
        os.close(self.children.pop(pid))
        _, status = os.waitpid(pid, 0)
        self.send({"op": "exit", "pid": pid, "status": status})

    def handle(self) -> bool:
        """Process one control message; ``False`` when the parent is gone."""
        try:
            raw, fds, _flags, _addr = socket.recv_fds(self.ctl, 65536, 4)
        except OSError:
            return False
        for fd in fds:
            os.close(fd)
        if raw and json.loads(raw).get("op") == "spare":
            self.fork_spare()
        return bool(raw)

    def serve(self) -> None:
        """Answer control messages until the parent closes the socket, then kill all."""
        try:
            while True:
                poller = select.poll()
                poller.register(self.ctl.fileno(), select.POLLIN)
                by_fd = {fd: pid for pid, fd in self.children.items()}
                for fd in by_fd:
                    poller.register(fd, select.POLLIN)
                ready = [fd for fd, _ in poller.poll()]
                for fd in ready:
                    if fd in by_fd:
                        self.reap(by_fd[fd])
                if self.ctl.fileno() in ready and not self.handle():
                    return
        finally:
            for pid in list(self.children):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def _zygote_proper(ctl_fd: int, cfg: dict[str, Any], mode: str, error: str | None, first: int):
    ns.prctl(ns.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() not in (first, 0):  # 0: PID 1 of a new PID namespace (parent outside)
        return
    ns.prctl(ns.PR_SET_DUMPABLE, 0)
    ctl = socket.socket(fileno=ctl_fd)
    zygote = Zygote(ctl, cfg, mode)
    zygote.send({"ok": True, "op": "hello", "pid": os.getpid(), "mode": mode,
                 "isolation_error": error})  # fmt: skip
    zygote.serve()


def _isolate(pandas: bool) -> tuple[str, str | None]:
    """Isolation around the preloads; ``("none", why)`` when it is impossible here."""
    try:
        mode = ns.begin()
    except OSError as exc:
        mode, error = "none", str(exc)
    if not pandas:
        sys.modules["pandas"] = None  # type: ignore[assignment]  # TA-Lib imports it if it can
    try:
        for name in PRELOADS:
            if pandas or name != "pandas":
                importlib.import_module(name)
    finally:
        if not pandas:
            del sys.modules["pandas"]  # importable again in a call that asks for it
    if mode != "none":
        try:
            ns.finish()
            error = None
        except OSError as exc:
            mode, error = "none", str(exc)
    return mode, error


def main() -> None:
    """Entry point: private control fd, isolation, then fork the zygote proper and wait."""
    cfg = json.loads(sys.argv[1])
    ctl_fd = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - fds 1 and 2: no fd of its own
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 - that a call's fds could reuse
    mode, error = _isolate(bool(cfg.get("pandas", True)))
    gc.collect()
    gc.freeze()  # children do not walk (and copy-on-write) the boot objects in collections
    first = os.getpid()
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            _zygote_proper(ctl_fd, cfg, mode, error, first)
        except BaseException:  # noqa: BLE001 - reported on stderr (/dev/null unless debugging)
            traceback.print_exc()
            status = 70
        finally:
            os._exit(status)
    os.close(ctl_fd)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
