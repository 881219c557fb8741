"""Installed first in a child process by test_paper_no_signer.py: refuses (and records) every
socket connection that is not to the loopback or a Unix socket, and at exit writes what it saw
plus any signing library that was imported (``hyperliquid``, ``eth_account``...) to a JSON file.

This guards the transport, not our code: nothing of SixBTC is patched.
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import socket
import sys

SIGNING_PACKAGES = ("hyperliquid", "eth_account", "eth_keys", "coincurve", "eth_keyfile")
_blocked: list[str] = []


def _loopback(address: object) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX path
        return True
    host = address[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def install(report_path: str) -> None:
    """Guard ``socket.socket.connect``/``connect_ex`` and ``getaddrinfo``; report at exit."""
    connect, connect_ex, getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def guarded_connect(self: socket.socket, address: object) -> None:
        if not _loopback(address):
            _blocked.append(f"connect {address}")
            raise OSError(f"network guard: connection to {address} refused by the test")
        return connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        if not _loopback(address):
            _blocked.append(f"connect_ex {address}")
            return 111
        return connect_ex(self, address)

    def guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if host not in (None, "localhost") and not _loopback((host,)):
            _blocked.append(f"getaddrinfo {host}")
            raise socket.gaierror(f"network guard: name lookup of {host} refused by the test")
        return getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex = guarded_connect, guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = guarded_getaddrinfo  # type: ignore[assignment]

    def report() -> None:
        signing = sorted(m for m in sys.modules if m.split(".")[0] in SIGNING_PACKAGES)
        with open(report_path, "w") as fh:
            json.dump({"blocked": _blocked, "signing_modules": signing}, fh)

    atexit.register(report)
