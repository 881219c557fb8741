"""The system-call filter of a sandbox call (seccomp BPF), installed before strategy code runs.

Namespaces and the minimal root leave the kernel's other shared objects within reach; each
call's process therefore refuses (``EPERM``), for the rest of its life:

* **namespaces and mounts**: ``unshare``, ``setns``, ``mount``, ``umount2``,
  ``pivot_root``, ``chroot``, ``mount_setattr`` and the new mount API (``open_tree``,
  ``move_mount``, ``fsopen``, ``fsconfig``, ``fsmount``, ``fspick``) — without them a call
  could make a user namespace of its own and mount a ``cgroup2`` tree (host figures, and
  directories that outlive the call where the cgroup is delegated to the user);
* **kernel keyrings**: ``add_key``, ``request_key``, ``keyctl`` — the session keyring is
  inherited from the parent, so a call could read the user's secrets there and leave keys
  for the next call;
* **other processes**: ``ptrace``, ``process_vm_readv``/``writev``, ``process_madvise``,
  ``kcmp``, ``pidfd_open``, ``pidfd_getfd``, ``pidfd_send_signal``, and ``kill``,
  ``tkill``, ``tgkill``, ``rt_sigqueueinfo``, ``rt_tgsigqueueinfo`` unless aimed at the
  call's own pid (as a same-uid process of an unprivileged sandbox it could otherwise stop
  or kill the zygote or the next call's process);
* **process creation**: ``fork``, ``vfork``, ``clone``, ``clone3`` (also refused by
  ``RLIMIT_NPROC`` = 0);
* **kernel attack surface** no strategy needs: ``bpf``, ``perf_event_open``,
  ``userfaultfd``, ``io_uring_*``, ``name_to_handle_at``, ``open_by_handle_at``;
* **sockets** other than ``AF_UNIX``, ``AF_INET``, ``AF_INET6`` and ``AF_NETLINK``
  (allow-list; ``socket``/``socketpair``): ``AF_VSOCK`` is not confined by a network
  namespace and reaches the hypervisor's services from a virtual machine.

A system call of another ABI (x32, or i386 through ``int 0x80`` on x86_64) kills the
process. Filters exist for x86_64 and aarch64; elsewhere :func:`install` reports
``"unsupported"`` and calls run without it.

Sources: ``seccomp(2)``, ``prctl(2)`` (``PR_SET_SECCOMP``), the kernel's
``Documentation/userspace-api/seccomp_filter.rst``; numbers from ``asm/unistd_64.h``
(x86_64) and ``asm-generic/unistd.h`` (aarch64).
"""

from __future__ import annotations

import ctypes
import os
import platform
from dataclasses import dataclass

#: BPF opcodes (``linux/filter.h``) and seccomp return values (``linux/seccomp.h``).
_LD_ABS, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
RET_ALLOW, RET_KILL_PROCESS, RET_EPERM = 0x7FFF0000, 0x80000000, 0x00050000 | 1
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
#: Offsets in ``struct seccomp_data``: nr, arch, low 32 bits of args[0] (little-endian).
_NR, _ARCH, _ARG0 = 0, 4, 16
#: Socket families a call may open (``AF_UNIX``, ``AF_INET``, ``AF_INET6``, ``AF_NETLINK``).
SOCKET_FAMILIES = (1, 2, 10, 16)


@dataclass(frozen=True)
class ArchTable:
    """System-call numbers of one architecture."""

    audit: int  # AUDIT_ARCH_* (linux/audit.h)
    refused: tuple[int, ...]
    signals: tuple[int, ...]  # allowed only when args[0] is the call's pid
    sockets: tuple[int, ...]  # allowed only for SOCKET_FAMILIES
    x32: bool = False  # numbers >= 0x40000000 are another ABI


#: Numbers shared by every architecture (the unified table from 424 on): pidfd_send_signal,
#: io_uring_setup/enter/register, open_tree, move_mount, fsopen, fsconfig, fsmount, fspick,
#: pidfd_open, clone3, pidfd_getfd, process_madvise, mount_setattr, open_tree_attr.
_NEW_API = (424, 425, 426, 427, 428, 429, 430, 431, 432, 433, 434, 435, 438, 440, 442, 467)
TABLES = {
    "x86_64": ArchTable(
        0xC000003E,
        # unshare setns mount umount2 pivot_root chroot add_key request_key keyctl ptrace
        # process_vm_readv/writev kcmp bpf perf_event_open userfaultfd name_to/open_by_handle_at
        # clone fork vfork
        (272, 308, 165, 166, 155, 161, 248, 249, 250, 101, 310, 311, 312, 321, 298, 323, 303,
         304, 56, 57, 58, *_NEW_API),
        (62, 200, 234, 129, 297),  # kill tkill tgkill rt_sigqueueinfo rt_tgsigqueueinfo
        (41, 53),  # socket socketpair
        x32=True,
    ),  # fmt: skip
    "aarch64": ArchTable(
        0xC00000B7,
        (97, 268, 40, 39, 41, 51, 217, 218, 219, 117, 270, 271, 272, 280, 241, 282, 264, 265,
         220, *_NEW_API),
        (129, 130, 131, 138, 240),
        (198, 199),
    ),  # fmt: skip
}


def program(table: ArchTable, pid: int) -> list[tuple[int, int, int, int]]:
    """The BPF program ``(code, jt, jf, k)`` of ``table`` for a process whose pid is ``pid``."""
    body: list[tuple[int, str | int, str | int, int]] = [
        (_LD_ABS, 0, 0, _ARCH), (_JEQ, 1, 0, table.audit), (_RET, 0, 0, RET_KILL_PROCESS),
        (_LD_ABS, 0, 0, _NR),
    ]  # fmt: skip
    if table.x32:
        body.append((_JGE, "kill", 0, 0x40000000))
    body += [(_JEQ, "deny", 0, nr) for nr in table.refused]
    body += [(_JEQ, "own_pid", 0, nr) for nr in table.signals]
    body += [(_JEQ, "family", 0, nr) for nr in table.sockets]
    body += [(_RET, 0, 0, RET_ALLOW)]
    labels = {"own_pid": len(body)}  # BPF jumps only forward: the targets come last
    body += [(_LD_ABS, 0, 0, _ARG0), (_JEQ, "allow", "deny", pid)]
    labels["family"] = len(body)
    body += [(_LD_ABS, 0, 0, _ARG0), *[(_JEQ, "allow", 0, f) for f in SOCKET_FAMILIES]]
    labels["deny"] = len(body)  # (the last family test falls through to it)
    body += [(_RET, 0, 0, RET_EPERM)]
    labels["allow"] = len(body)
    body += [(_RET, 0, 0, RET_ALLOW)]
    labels["kill"] = len(body)
    body += [(_RET, 0, 0, RET_KILL_PROCESS)]

    def jump(target: str | int, at: int) -> int:
        return target if isinstance(target, int) else labels[target] - at - 1

    return [(code, jump(jt, i), jump(jf, i), k) for i, (code, jt, jf, k) in enumerate(body)]


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]  # fmt: skip


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def install() -> str:
    """Install the filter on the calling process (needs ``PR_SET_NO_NEW_PRIVS`` first).

    Returns
    -------
    str
        ``"on"``, or ``"unsupported: <machine>"`` where no table exists.

    Raises
    ------
    OSError
        When the kernel refuses the filter (``errno`` of ``prctl``).
    """
    table = TABLES.get(platform.machine())
    if table is None:
        return f"unsupported: {platform.machine()}"
    insns = program(table, os.getpid())
    array = (_SockFilter * len(insns))(*[_SockFilter(*i) for i in insns])
    prog = _SockFprog(len(insns), ctypes.cast(array, ctypes.POINTER(_SockFilter)))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(prog), 0, 0):
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_SECCOMP): {os.strerror(err)}")
    return "on"
