"""``sixbtc rotate [--dry-run]``: fill free LIVE slots from the pool now (or show what would be)."""

from __future__ import annotations

import json

import typer
from rich.markup import escape

from sixbtc.cli.context import console, friendly_errors, open_container


def rotate(ctx: typer.Context,
           dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would be promoted; write nothing."),
           as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Promote the best pool strategies into free LIVE slots (rotator rules, SPEC §3.6); paper
    trading unless live mode is configured. Holds the rotator lease (one rotation at a time)."""
    from sixbtc.app.rotation import plan_now, rotate_now

    c = open_container(ctx)
    with friendly_errors():
        if dry_run:
            rows = [{"id": s.id, "name": s.name, "score": s.score, "sub_account": None} for s in plan_now(c)]
        else:
            rows = [{"id": p.strategy_id, "name": p.name, "score": p.score, "sub_account": p.subaccount}
                    for p in rotate_now(c)]
    if as_json:
        typer.echo(json.dumps({"dry_run": dry_run, "promoted": rows}))
        return
    verb = "would promote" if dry_run else "promoted"
    console.print(f"{verb} {len(rows)} strategies into LIVE" + (":" if rows else ""))
    for r in rows:
        where = f" on {r['sub_account']}" if r["sub_account"] else ""
        console.print(f"  {escape(r['name'])} (score {r['score']:.1f}){escape(where)}")
