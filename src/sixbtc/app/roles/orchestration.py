"""The scheduler role (the api role lives with the API: :mod:`sixbtc.api.role`).

The scheduler role runs the scheduled tasks of SPEC §3.9 (:func:`sixbtc.app.scheduler.add_scheduled_tasks`:
each task on its UTC cron, recorded in ``scheduler_runs``, one run at a time across processes by
its database lease) until stopped; the role's heartbeats come from its runtime.
"""

from __future__ import annotations

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from sixbtc.app.roles.runtime import RoleRuntime
from sixbtc.app.scheduler import add_scheduled_tasks

log = structlog.get_logger(__name__)
SCHEDULER_STAGE = "sixbtc.scheduler"  # the stage this role runs (supervisor-config lists the role when present)


def run_scheduler(rt: RoleRuntime) -> None:
    """Run the enabled scheduled tasks on their crons until the role is stopped."""
    sched = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    names = add_scheduled_tasks(sched, rt.c, lambda message: log.info("scheduled task", message=message))
    log.info("scheduler started", tasks=len(names))
    sched.start()
    try:
        while rt.wait(1.0):
            pass
    finally:
        sched.shutdown(wait=False)
