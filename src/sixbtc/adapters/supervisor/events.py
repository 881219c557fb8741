"""supervisord's event-listener protocol, read from standard input (``supervisor.childutils``).

:func:`crash_events` answers ``READY``, reads one event, acknowledges it (``RESULT 2 OK``) after
the caller handled it, and yields a :class:`Crash` for each unexpected exit
(``PROCESS_STATE_EXITED`` with ``expected:0``) and each ``PROCESS_STATE_FATAL`` (the program
could not be started); other events are acknowledged and skipped. Source:
``supervisord.org/events.html`` (event listener notification protocol).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from supervisor import childutils


@dataclass(frozen=True)
class Crash:
    """An unexpected end of a supervised process: ``event`` (``PROCESS_STATE_EXITED`` or
    ``PROCESS_STATE_FATAL``), ``group``, ``process``, ``pid`` (None for FATAL) and the state
    it came from."""

    event: str
    group: str
    process: str
    pid: int | None
    from_state: str


def parse(event: str, payload: str) -> Crash | None:
    """The crash an event's payload describes, or None (an expected exit, another event)."""
    headers, _ = childutils.eventdata(payload + "\n")
    if event == "PROCESS_STATE_EXITED" and headers.get("expected") == "1":
        return None
    if event not in ("PROCESS_STATE_EXITED", "PROCESS_STATE_FATAL"):
        return None
    pid = headers.get("pid")
    return Crash(event, headers.get("groupname", ""), headers.get("processname", ""),
                 int(pid) if pid and pid.isdigit() else None, headers.get("from_state", ""))


def crash_events(stdin: TextIO, stdout: TextIO) -> Iterator[Crash]:
    """Yield crashes until standard input closes; each event is acknowledged after the
    consumer's handling of it returns (even when it raised)."""
    while True:
        childutils.listener.ready(stdout)
        line = stdin.readline()
        if not line:
            return
        headers = childutils.get_headers(line)
        payload = stdin.read(int(headers["len"]))
        try:
            crash = parse(headers["eventname"], payload)
            if crash is not None:
                yield crash
        finally:
            childutils.listener.ok(stdout)
