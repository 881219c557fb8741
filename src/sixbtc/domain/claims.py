"""Worker ids of work claims: which host and which process holds a claim.

A claim's ``processing_by`` is ``"{role}@{host}:{pid}/{started}"`` (at most 64 characters; a
long host name is cut), written by the worker process itself with its own pid and its start
time (``started``: clock ticks since boot, field 22 of ``/proc/<pid>/stat``), so a claim whose
process is gone from its host — or whose pid now belongs to another process, started later —
can be released at once instead of after the age limit. Ids written without a start time
(``"{role}@{host}:{pid}"``: older versions, hosts without procfs) are judged by the pid alone.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LEN = 64  # strategies.processing_by


@dataclass(frozen=True)
class WorkerId:
    """``role`` run by process ``pid`` on ``host``, started at ``started`` (None: unknown)."""

    role: str
    host: str
    pid: int
    started: int | None = None

    def __str__(self) -> str:
        tail = f":{self.pid}" + (f"/{self.started}" if self.started is not None else "")
        head = f"{self.role}@"
        return head + self.host[: MAX_LEN - len(head) - len(tail)] + tail

    def same_host(self, host: str) -> bool:
        """True when this id was written on ``host`` (compared as cut in :meth:`__str__`)."""
        return self.host == WorkerId.parse(str(WorkerId(self.role, host, self.pid, self.started))).host  # type: ignore[union-attr]

    @classmethod
    def parse(cls, text: str | None) -> WorkerId | None:
        """The id written by :meth:`__str__`, or None for text in another format."""
        if not text or "@" not in text or ":" not in text:
            return None
        role, _, rest = text.partition("@")
        host, _, tail = rest.rpartition(":")
        pid, slash, started = tail.partition("/")
        if not role or not host or not pid.isdigit() or (slash and not started.isdigit()):
            return None
        return cls(role, host, int(pid), int(started) if slash else None)
