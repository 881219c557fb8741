"""Linux isolation of the sandbox zygote: namespaces and a minimal read-only root.

Runs inside the zygote process (:mod:`sixbtc.strategy.sandbox_zygote`) before any strategy
code exists: :func:`begin` before its imports (a user namespace can only be created by a
single-threaded process, and numpy/pandas start threads), :func:`finish` after them. They
give the process

* new **mount, network, IPC, UTS and PID** namespaces. As root they are created directly;
  otherwise an unprivileged **user namespace** is created first (the process is uid 0
  inside it, mapped to the caller's uid outside: no more rights on host files than the
  caller);
* a **minimal root**: a tmpfs holding only read-only bind mounts of the interpreter
  (``sys.prefix``/``sys.base_prefix`` and the ``sys.path`` entries inside them), the
  package directories of modules imported from elsewhere (e.g. an editable ``src``),
  the directories of every shared library mapped in the process, ``/etc/ld.so.cache`` and
  ``/dev/null``, ``/dev/zero``, ``/dev/random``, ``/dev/urandom``. The process
  ``pivot_root``\\ s into it and detaches the old root, so no other host file (``/etc``,
  ``/home``, ``/root`` beyond the interpreter, ``/tmp``, ``/proc``, the SixBTC home and
  its database) exists inside. Every mount, the tmpfs root included, is then made
  read-only (``mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID)``): no
  file can be written, so files cannot carry state from one call to the next.

Bubblewrap's sequence is the model (tmpfs on ``/tmp``, ``pivot_root`` into it, bind from
the old root, detach it). Sources: ``unshare(2)``, ``user_namespaces(7)``,
``pivot_root(2)``, ``mount_setattr(2)``, ``mount(2)``, ``prctl(2)`` (Linux man-pages).

Failures raise :class:`IsolationError` with the step and ``errno``; the caller decides
(the sandbox refuses to run strategy code without isolation unless told otherwise).
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from dataclasses import dataclass, field

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 1 << 18
MNT_DETACH = 2
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 0x1, 0x2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (new syscall table)
#: ``pivot_root`` has no glibc wrapper; its number differs per architecture.
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom")
_BASE = "/tmp"  # exists everywhere; the tmpfs hides it only inside the new namespace


class IsolationError(OSError):
    """A namespace or mount step failed; the message names the step and the errno."""


class _MountAttr(ctypes.Structure):
    """``struct mount_attr`` of ``mount_setattr(2)`` (Linux >= 5.12)."""

    _fields_ = [(n, ctypes.c_uint64) for n in ("attr_set", "attr_clr", "propagation", "userns_fd")]


_LIBC = ctypes.CDLL(None, use_errno=True)


def _check(result: int, step: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise IsolationError(err, f"{step}: {os.strerror(err)}")


def unshare(flags: int, step: str = "unshare") -> None:
    """``unshare(2)``; raises :class:`IsolationError` on failure."""
    _check(_LIBC.unshare(ctypes.c_int(flags)), step)


def prctl(option: int, value: int) -> None:
    """``prctl(2)`` with one argument; raises :class:`IsolationError` on failure."""
    _check(_LIBC.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option})")


def _mount(src: str | None, dst: str, fstype: str | None, flags: int, data: str | None = None):
    enc = (lambda s: None if s is None else s.encode())  # noqa: E731
    result = _LIBC.mount(enc(src), enc(dst), enc(fstype), ctypes.c_ulong(flags), enc(data))
    _check(result, f"mount {src or fstype} on {dst}")


@dataclass
class RootPlan:
    """What the minimal root holds: real host paths bound read-only, and symlinks.

    Attributes
    ----------
    binds : list of str
        Absolute real paths (directories or files), none under another one of the list.
    symlinks : dict of str -> str
        Link path -> link text (e.g. ``/lib -> usr/lib``), re-created inside.
    """

    binds: list[str] = field(default_factory=list)
    symlinks: dict[str, str] = field(default_factory=dict)


def _mapped_library_dirs() -> set[str]:
    dirs = set()
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                parts = line.split(maxsplit=5)
                if len(parts) == 6 and parts[5].startswith("/"):
                    dirs.add(os.path.dirname(parts[5].rstrip("\n").removesuffix(" (deleted)")))
    except OSError:
        pass
    return dirs


def _module_roots(inside: list[str]) -> set[str]:
    """Directories of imported top-level packages that lie outside ``inside``."""
    roots = set()
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not os.path.isabs(path):
            continue
        real = os.path.realpath(path)
        if any(real == p or real.startswith(p + os.sep) for p in inside):
            continue
        top = sys.modules.get(name.partition(".")[0])
        paths = list(getattr(top, "__path__", None) or [])
        roots.update(os.path.realpath(p) for p in paths if isinstance(p, str))
        roots.add(os.path.dirname(real))
    return roots


def _dedupe(paths: set[str]) -> list[str]:
    """Existing paths, sorted, dropping those inside another one."""
    out: list[str] = []
    for path in sorted(p for p in paths if os.path.exists(p)):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in out):
            out.append(path)
    return out


def plan_root() -> RootPlan:
    """The binds and symlinks of the minimal root for this interpreter (host view).

    ``sys.path`` entries outside the interpreter's prefixes (an editable ``src`` folder, a
    ``PYTHONPATH`` entry) are not bound whole: only the packages imported from them.
    """
    prefixes = {os.path.realpath(p) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix,
                                               sys.base_exec_prefix}}  # fmt: skip
    inside = sorted(prefixes)
    entries = {os.path.realpath(p) for p in sys.path if p and os.path.isabs(p)}
    wanted = prefixes | {e for e in entries if any(e.startswith(p + os.sep) for p in inside)}
    wanted |= _mapped_library_dirs() | _module_roots(inside)
    wanted |= {p for p in ("/etc/ld.so.cache", *DEVICES) if os.path.exists(p)}
    plan = RootPlan(binds=_dedupe({os.path.realpath(p) for p in wanted} - {"/"}))
    for name in os.listdir("/"):  # /lib -> usr/lib, /bin -> usr/bin (merged /usr)
        link = "/" + name
        if os.path.islink(link):
            plan.symlinks[link] = os.readlink(link)
    return plan


def _bind(src: str, dst: str) -> None:
    if os.path.isdir(src):
        os.makedirs(dst, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), mode=0o755, exist_ok=True)
        with open(dst, "a"):
            pass
    _mount(src, dst, None, MS_BIND | MS_REC)


def enter_minimal_root(plan: RootPlan) -> None:
    """``pivot_root`` into a tmpfs holding ``plan``, detach the host root, make all read-only.

    Must run in a fresh mount namespace (with CAP_SYS_ADMIN in its user namespace).

    Raises
    ------
    IsolationError
        Naming the failing step (unknown architecture for ``pivot_root`` included).
    """
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise IsolationError(0, f"pivot_root: unsupported architecture {platform.machine()}")
    os.umask(0o022)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing propagates back to the host
    _mount("tmpfs", _BASE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=4096")
    os.chdir(_BASE)
    os.mkdir("oldroot", 0o755)
    _check(_LIBC.syscall(number, _BASE.encode(), f"{_BASE}/oldroot".encode()), "pivot_root")
    os.chdir("/")
    for link, target in plan.symlinks.items():
        os.symlink(target, link)
    for src in plan.binds:
        _bind("/oldroot" + src, src)
    _mount(None, "/oldroot", None, MS_REC | MS_PRIVATE)
    _check(_LIBC.umount2(b"/oldroot", MNT_DETACH), "umount2 /oldroot")
    os.rmdir("/oldroot")
    attr = _MountAttr(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0, 0, 0)
    _check(_LIBC.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, b"/", AT_RECURSIVE, ctypes.byref(attr),
                         ctypes.sizeof(attr)), "mount_setattr read-only")  # fmt: skip
    os.chdir("/")


def _enter_user_namespace() -> None:
    uid, gid = os.getuid(), os.getgid()
    unshare(CLONE_NEWUSER, "unshare(CLONE_NEWUSER) (unprivileged user namespace)")
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)


def begin() -> str:
    """First isolation step, while the process is still single-threaded (before numpy).

    Enters a new mount namespace: directly as root, else (or as a root without
    CAP_SYS_ADMIN, e.g. in a container) inside a new unprivileged user namespace, which the
    kernel creates only for a single-threaded caller.

    Returns
    -------
    str
        ``"root"`` (children will drop to ``nobody``) or ``"userns"`` (children enter a
        nested user namespace).

    Raises
    ------
    IsolationError
        When neither way works (no CAP_SYS_ADMIN and no unprivileged user namespaces);
        the message names the step.
    """
    if os.geteuid() == 0:
        try:
            unshare(CLONE_NEWNS, "unshare(CLONE_NEWNS)")
            return "root"
        except IsolationError:
            pass  # root without CAP_SYS_ADMIN: try a user namespace
    _enter_user_namespace()
    unshare(CLONE_NEWNS, "unshare(CLONE_NEWNS) in the user namespace")
    return "userns"


def finish() -> None:
    """Second step, after the imports: network, IPC, UTS and PID namespaces, minimal root.

    Raises
    ------
    IsolationError
        Naming the failing step.
    """
    plan = plan_root()  # host view: the mount namespace is still a copy of the host's
    unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID, "unshare(net, ipc, uts, pid)")
    enter_minimal_root(plan)
