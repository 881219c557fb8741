"""``sixbtc scheduler [--run TASK] [--json]``: the scheduled tasks with their last and next
run, or one task run now by hand (recorded like a scheduled run; it waits for nobody: a task
already running elsewhere is reported as skipped).

Exit codes: 0 listed, or the task ran (ok or skipped); 1 the task failed; 2 unknown task.
"""

from __future__ import annotations

import json
from datetime import datetime

import typer
from rich.markup import escape

from sixbtc.cli.context import console, friendly_errors, open_container, report_error, table

OUTCOME_STYLE = {"ok": "green", "failed": "bold red", "skipped": "yellow", "running": "cyan"}


def scheduler(ctx: typer.Context,
              run: str | None = typer.Option(None, "--run", metavar="TASK", help="Run TASK now (whether enabled or not)."),
              as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """The scheduled maintenance tasks (SPEC §3.9, UTC): schedule, last run and outcome, next run."""
    from sixbtc.app.scheduler import run_scheduled, task_overview
    from sixbtc.scheduler.tasks import TASKS

    c = open_container(ctx)
    if run is not None:
        if run not in TASKS:
            report_error(f"unknown task {run!r}; tasks: {', '.join(TASKS)}", 2, "usage error")
        with friendly_errors():
            outcome, message = run_scheduled(c, run)
        if as_json:
            typer.echo(json.dumps({"task": run, "outcome": str(outcome), "message": message}))
        else:
            style = OUTCOME_STYLE.get(str(outcome), "")
            console.print(f"{run}: [{style}]{outcome}[/] {escape(message)}", soft_wrap=True)
        raise typer.Exit(1 if str(outcome) == "failed" else 0)
    with friendly_errors():
        rows = task_overview(c)
    if as_json:
        typer.echo(json.dumps({"enabled": c.settings.scheduler.enabled, "tasks": [_json(r) for r in rows]}))
        return
    _render(rows, c.settings.scheduler.enabled)


def _ts(ts: datetime | None) -> str:
    return "-" if ts is None else ts.strftime("%Y-%m-%d %H:%M")


def _json(r: object) -> dict[str, object]:
    last = r.last  # type: ignore[attr-defined]
    return {"task": r.name, "what": r.what, "enabled": r.enabled, "cron": r.cron,  # type: ignore[attr-defined]
            "next_run": r.next_run.isoformat() if r.next_run else None,  # type: ignore[attr-defined]
            "last": None if last is None else {
                "started_at": last.started_at.isoformat(), "outcome": str(last.outcome), "message": last.message,
                "finished_at": last.finished_at.isoformat() if last.finished_at else None}}


def _render(rows: list, enabled: bool) -> None:
    title = "scheduler (UTC)" + ("" if enabled else ": scheduler.enabled is false, `sixbtc run` runs no task")
    t = table(title, ("task", "cron", "enabled", "last run", "outcome", "message", "next run"))
    for r in rows:
        last = r.last
        outcome = "-" if last is None else f"[{OUTCOME_STYLE.get(str(last.outcome), '')}]{last.outcome}[/]"
        t.add_row(r.name, r.cron, "yes" if r.enabled else "no", _ts(last.started_at if last else None), outcome,
                  escape(last.message[:120]) if last else "", _ts(r.next_run))
    console.print(t)
