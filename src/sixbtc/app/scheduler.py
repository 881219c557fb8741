"""The scheduler use cases: run one task by hand or on its cron trigger, and the overview
of ``sixbtc scheduler``.

Every run goes through :func:`sixbtc.scheduler.runner.run_task`: the task's database lease
(``sched:<task>``, so a task never runs twice at once, also across processes), a row in
``scheduler_runs``, and errors recorded instead of raised. :func:`add_scheduled_tasks` puts
the enabled tasks on an APScheduler 3 ``BackgroundScheduler`` with UTC crontab triggers
(``sixbtc run`` runs it in-process: the embedded default).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from sixbtc.app.container import Container
from sixbtc.app.lease import TaskLeases
from sixbtc.app.processes import this_host
from sixbtc.app.scheduled_tasks import ACTIONS
from sixbtc.scheduler.ports import Outcome, TaskRun
from sixbtc.scheduler.runner import run_task
from sixbtc.scheduler.tasks import TASKS, task_config

log = logging.getLogger(__name__)


def run_scheduled(c: Container, task: str) -> tuple[Outcome, str]:
    """Run ``task`` now under its lease and record it (enabled or not).

    Raises
    ------
    ValueError
        For an unknown task name.
    """
    task_config(c.settings.scheduler, task)  # unknown name -> ValueError listing the tasks
    action = ACTIONS[task]
    return run_task(task, lambda: action(c), c.scheduler_runs, TaskLeases(c.engine), this_host(), os.getpid())


#: crontab(5) weekday numbers 0-6 (0 = Sunday) as APScheduler's names (its numbers start on Monday).
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekdays(field: str) -> str:
    """A crontab weekday field as APScheduler day names (``*`` stays; items expanded)."""
    if field == "*":
        return field
    days: set[int] = set()
    for item in field.split(","):
        span, _, step = item.partition("/")
        first, _, last = span.partition("-")
        lo, hi = (0, 6) if span == "*" else (int(first), int(last or (6 if step else first)))
        days.update(range(lo, hi + 1, int(step or 1)))
    return ",".join(WEEKDAYS[d] for d in sorted(days))


def trigger(cron: str) -> CronTrigger:
    """The UTC cron trigger of a crontab expression (checked by the config: numbers only;
    weekday 0 = Sunday as in crontab(5), translated for APScheduler 3 where 0 is Monday)."""
    minute, hour, day, month, weekday = cron.split()
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_weekdays(weekday), timezone=UTC)


@dataclass(frozen=True)
class TaskStatus:
    """One line of ``sixbtc scheduler``: the task, what it does, its schedule, its newest run
    and its next run (None when the task or the scheduler is disabled)."""

    name: str
    what: str
    enabled: bool
    cron: str
    last: TaskRun | None
    next_run: datetime | None


def task_overview(c: Container, now: datetime | None = None) -> list[TaskStatus]:
    """Every task of SPEC §3.9 with its last and next run (next: by its cron from ``now``)."""
    now = now or c.clock.now()
    last = c.scheduler_runs.last_runs()
    out = []
    for name, what in TASKS.items():
        cfg = task_config(c.settings.scheduler, name)
        on = cfg.enabled and c.settings.scheduler.enabled
        nxt = trigger(cfg.cron).get_next_fire_time(None, now) if on else None
        out.append(TaskStatus(name, what, cfg.enabled, cfg.cron, last.get(name), nxt))
    return out


def add_scheduled_tasks(sched: BaseScheduler, c: Container, say: Callable[[str], None]) -> list[str]:
    """Add every enabled task to ``sched`` on its cron (UTC); return the names added.

    Each job runs :func:`run_scheduled` and reports the outcome with ``say``; an error of the
    run log or the lease itself (database down) is reported too and the job fires again at its
    next time. APScheduler's ``max_instances=1`` keeps a job from overlapping itself in this
    process; the task lease does so across processes.
    """
    added = []
    for name in TASKS:
        cfg = task_config(c.settings.scheduler, name)
        if cfg.enabled:
            sched.add_job(_job, trigger(cfg.cron), args=(c, name, say), id=f"task:{name}", name=name,
                          max_instances=1, coalesce=True, misfire_grace_time=3600, replace_existing=True)
            added.append(name)
    return added


def _job(c: Container, task: str, say: Callable[[str], None]) -> None:
    try:
        outcome, message = run_scheduled(c, task)
    except Exception as exc:  # noqa: BLE001 — the run log itself failed; the next run retries
        say(f"scheduler: {task} could not be run or recorded: {type(exc).__name__}: {exc}")
        return
    say(f"scheduler: {task} {outcome}: {message}")
