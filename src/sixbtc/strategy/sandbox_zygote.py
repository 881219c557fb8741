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

The zygote **never executes strategy code and never reads a request or a reply**: the
parent creates two pipes per call and passes the child's ends with the ``call`` message
(``SCM_RIGHTS``). The child reads the request (source, parameters, OHLCV arrays) and
writes the reply straight to the parent. So the memory a child starts from holds the
boot state only, never data, code or results of an earlier call, and a child's changes
(module attributes, class attributes, caches, the indicator cache) die with it.

Control messages (JSON): parent → zygote ``{op: call, id}`` + fds ``[request_r, reply_w]``
and ``{op: finish, id}`` (the parent has its reply or gave up: kill the child if still
alive); zygote → parent ``{op: done, id, status}`` (the ``waitpid`` status) once per call.
The zygote runs one call's process at a time: each is forked ahead of its call (a spare,
blocked until it receives its call's pipes) and gets them only after the previous call's
process is reaped. An end of file on the control socket (the parent died or closed
the sandbox) kills the child and ends the zygote.

Each child, before reading its request, closes every other fd, sets
``PR_SET_PDEATHSIG`` (SIGKILL), the limits ``RLIMIT_CPU`` (per call), ``RLIMIT_FSIZE``,
``RLIMIT_NOFILE``, ``RLIMIT_CORE`` 0 and ``RLIMIT_NPROC`` 0 (no fork, no thread), enters a
new IPC namespace of its own (SysV IPC and POSIX message queues cannot carry state), drops
to uid/gid ``nobody`` (mode ``root``), enters a nested user namespace (no capability over
the shared namespaces, own keyrings) and sets ``PR_SET_NO_NEW_PRIVS``.
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

#: Imported after :func:`sixbtc.strategy.sandbox_namespaces.begin` (numpy/pandas start
#: threads, and a multi-threaded process cannot create a user namespace).
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


def _drop(mode: str) -> bool:
    """Per-child privilege drop; returns whether a nested user namespace was entered."""
    if mode != "none":
        ns.unshare(ns.CLONE_NEWIPC, "unshare(CLONE_NEWIPC) per call")
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
    return nested


def _close_other_fds(keep: list[int]) -> None:
    low = 3
    for fd in sorted(k for k in keep if k >= 3):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)


def _spare(sock_fd: int, cfg: dict[str, Any], mode: str, zygote: int) -> None:
    """Body of a call's process, forked ahead of its call: wait for the call's pipes, then
    isolate and let the worker serve the request. Never returns."""
    status = 70
    try:
        _close_other_fds([sock_fd])
        ns.prctl(ns.PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != zygote:
            return
        _limit_child(cfg)
        sock = socket.socket(fileno=sock_fd)
        raw, fds, _flags, _addr = socket.recv_fds(sock, 16, 2)
        sock.close()
        if raw != b"go" or len(fds) != 2:
            return
        nested = _drop(mode)  # only now: until its call a spare is immune to other calls
        worker = sys.modules["sixbtc.strategy.sandbox_worker"]
        worker.serve_call(fds[0], fds[1], {"mode": mode, "nested_userns": nested})
        status = 0
    finally:
        os._exit(status)  # no atexit, no __del__, no flush of anything the strategy left


def _pidfd(pid: int) -> int | None:
    with contextlib.suppress(OSError, AttributeError):
        return os.pidfd_open(pid)
    return None


class Zygote:
    """The serving loop of the zygote proper: one call's process at a time, plus a spare.

    The spare is forked from this (clean) process ahead of the next call and waits for that
    call's pipes, which it receives only after the previous call's process is reaped; so the
    fork is off the critical path and no two call processes ever run strategy code at once.
    """

    def __init__(self, ctl: socket.socket, cfg: dict[str, Any], mode: str) -> None:
        self.ctl, self.cfg, self.mode = ctl, cfg, mode
        self.zygote_pid = os.getpid()
        self.child: tuple[int, int, int | None] | None = None  # (call id, pid, pidfd)
        self.spare: tuple[int, int | None, socket.socket] | None = None  # (pid, pidfd, sock)

    def send(self, message: dict[str, Any]) -> None:
        self.ctl.send(json.dumps(message).encode())

    def fork_spare(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            _spare(theirs.detach(), self.cfg, self.mode, self.zygote_pid)
        theirs.close()
        self.spare = (pid, _pidfd(pid), ours)

    def drop_spare(self, kill: bool) -> None:
        pid, pidfd, sock = self.spare  # type: ignore[misc]
        self.spare = None
        sock.close()
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        if pidfd is not None:
            os.close(pidfd)

    def dispatch(self, call_id: int, fds: list[int]) -> None:
        """Hand a call's pipes to the spare (forked anew if it died), then fork the next."""
        self.reap(kill=True)  # never two call processes at once
        try:
            for _ in range(2):
                if self.spare is None or os.waitpid(self.spare[0], os.WNOHANG)[0]:
                    if self.spare is not None:
                        self.drop_spare(kill=False)
                    self.fork_spare()
                pid, pidfd, sock = self.spare  # type: ignore[misc]
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)  # undo a SIGSTOP sent by an earlier call
                try:
                    socket.send_fds(sock, [b"go"], fds)
                except OSError:
                    self.drop_spare(kill=True)
                    continue
                self.spare = None
                sock.close()
                self.child = (call_id, pid, pidfd)
                break
        finally:
            for fd in fds:
                os.close(fd)
        self.fork_spare()

    def _finish_child(self, status: int) -> None:
        call_id, _pid, pidfd = self.child  # type: ignore[misc]
        if pidfd is not None:
            os.close(pidfd)
        self.child = None
        self.send({"op": "done", "id": call_id, "status": status})

    def reap(self, kill: bool) -> None:
        """Kill (optionally) and reap the current call's process; report its status."""
        if self.child is None:
            return
        pid = self.child[1]
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._finish_child(os.waitpid(pid, 0)[1])

    def handle(self) -> bool:
        """Process one control message; ``False`` when the parent is gone."""
        try:
            raw, fds, _flags, _addr = socket.recv_fds(self.ctl, 65536, 4)
        except OSError:
            return False
        message = json.loads(raw) if raw else {}
        if message.get("op") == "call" and len(fds) == 2:
            self.dispatch(int(message["id"]), fds)
            return True
        for fd in fds:
            os.close(fd)
        child = self.child
        if message.get("op") == "finish" and child is not None and child[0] == message.get("id"):
            self.reap(kill=True)
        return bool(raw)

    def _watch(self) -> tuple[set[int], int | None, int | None]:
        poller = select.poll()
        poller.register(self.ctl.fileno(), select.POLLIN)
        child_fd = self.child[2] if self.child is not None else None
        spare_fd = self.spare[1] if self.spare is not None else None
        for fd in (child_fd, spare_fd):
            if fd is not None:
                poller.register(fd, select.POLLIN)
        polling = self.child is not None and child_fd is None  # no pidfd: poll every 50 ms
        return {fd for fd, _ in poller.poll(50 if polling else None)}, child_fd, spare_fd

    def serve(self) -> None:
        """Answer control messages until the parent closes the socket."""
        self.fork_spare()
        while True:
            ready, child_fd, spare_fd = self._watch()
            if self.child is not None and (child_fd is None or child_fd in ready):
                pid, status = os.waitpid(self.child[1], os.WNOHANG)
                if pid:
                    self._finish_child(status)
            if spare_fd is not None and spare_fd in ready and self.spare is not None:
                self.drop_spare(kill=False)  # killed by an earlier call: forked anew when needed
            if self.ctl.fileno() in ready and not self.handle():
                self.reap(kill=True)
                if self.spare is not None:
                    self.drop_spare(kill=True)
                return


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


def _isolate() -> tuple[str, str | None]:
    """Isolation around the preloads; ``("none", why)`` when it is impossible here."""
    try:
        mode = ns.begin()
    except OSError as exc:
        mode, error = "none", str(exc)
    for name in PRELOADS:
        importlib.import_module(name)
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
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives with the process
    mode, error = _isolate()
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
