"""``sixbtc generate N``: generate up to N strategies now (daily limit and back-pressure apply)."""

from __future__ import annotations

import json

import typer

from sixbtc.cli.context import console, friendly_errors, open_container


def generate(ctx: typer.Context,
             n: int = typer.Argument(..., min=1, max=10_000, help="Strategies to generate at most."),
             seed: int | None = typer.Option(None, "--seed", min=0, help="Random seed (default generator.seed)."),
             as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Generate up to N GENERATED strategies from generator.sources, within generator.daily_limit
    (counted in the database since UTC midnight) and the GENERATED queue limit."""
    import numpy as np

    from sixbtc.app.generation import generate_batch, generation_room

    c = open_container(ctx)
    with friendly_errors():
        rng = np.random.default_rng(seed if seed is not None else c.settings.generator.seed)
        created, dropped = generate_batch(c, n, rng, on_error=lambda m: console.print(f"llm source: {m}"))
        daily_left, queue_left = generation_room(c)
    out = {"generated": created, "dropped": dropped, "daily_left": max(0, daily_left), "queue_left": max(0, queue_left)}
    if as_json:
        typer.echo(json.dumps(out))
        return
    console.print(f"{created} generated, {dropped} dropped (duplicates); left today {out['daily_left']} "
                  f"(generator.daily_limit), room in the GENERATED queue {out['queue_left']}")
    if created < n and (daily_left <= 0 or queue_left <= 0):
        why = "the daily limit is reached" if daily_left <= 0 else "the GENERATED queue is full (back-pressure)"
        console.print(f"stopped early: {why}")
