"""The operations jobs the monitor role (and ``sixbtc run``) runs beside its own work."""

from __future__ import annotations

import threading

from sixbtc.app.container import Container
from sixbtc.app.roles.runtime import Job


def ops_jobs(c: Container, stop: threading.Event) -> list[Job]:
    """The periodic operations jobs (none yet)."""
    del c, stop
    return []
