"""Worker entry point of the cross-process scheduler test (a light module for spawn children)."""

from __future__ import annotations

import os
import time
from typing import Any

from sixbtc.adapters.storage.db import make_engine
from sixbtc.adapters.storage.scheduler_repo import SchedulerRunRepository
from sixbtc.app.lease import TaskLeases
from sixbtc.app.processes import this_host
from sixbtc.scheduler.runner import run_task


def task_worker(url: str, worker: str, barrier: Any, results: Any) -> None:
    """All workers start the same task at once; the task takes 3 s. Payload: (outcome, message)."""
    engine = make_engine(url)
    try:
        barrier.wait(timeout=60)
        outcome, message = run_task("cleanup_old_events", lambda: time.sleep(3) or f"done by {worker}",
                                    SchedulerRunRepository(engine), TaskLeases(engine), this_host(), os.getpid())
        results.put((worker, (str(outcome), message), None))
    except Exception as exc:  # noqa: BLE001 — reported to the parent
        results.put((worker, None, repr(exc)))
    finally:
        engine.dispose()
