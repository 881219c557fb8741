"""The live-trading gate of the commands that trade (SPEC §3.7 "Paper mode is the default").

``sixbtc run`` and ``sixbtc worker executor`` go through :func:`live_gate` before they build an
executor, so real orders always need the same two explicit signals, whichever process trades.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from rich.markup import escape

from sixbtc.cli.context import err_console, friendly_errors

if TYPE_CHECKING:
    from sixbtc.app.container import Container

LIVE_HELP = ("Trade for real: needs executor.dry_run: false as well, and the agent key (environment or a "
             "chmod-600 exchange.agent_key_file); prints what will trade and waits 5 s, then trades on "
             "exchange.execution_venue. Paper trading is the default.")


def live_gate(c: Container, live: bool, once: bool, delay_s: float) -> None:
    """Paper, or the live gate of every process that trades (``sixbtc run``, ``sixbtc worker
    executor``): both signals (``--live`` and ``executor.dry_run: false``), the agent key, the
    warning naming what will trade and the wait (Ctrl-C aborts), then the venue client is built
    (no request sent yet).

    Raises
    ------
    typer.Exit
        Code 2 on a refusal (one signal without the other, no agent key, ``--live`` with
        ``--once``); nothing was sent.
    """
    from sixbtc.app.live_mode import live_plan, live_warning, trading_mode
    from sixbtc.app.venues import open_venue

    with friendly_errors():
        if trading_mode(c.settings, live, once=once) == "paper":
            return
        plan = live_plan(c)
    err_console.print(f"[bold red]{escape(live_warning(plan))}[/]", highlight=False)
    remaining = delay_s
    while remaining > 0:
        err_console.print(f"starting in {math.ceil(remaining)} s (Ctrl-C aborts)")
        step = min(1.0, remaining)
        time.sleep(step)
        remaining -= step
    with friendly_errors():
        open_venue(c)  # the live client with its agent key: a refusal here sends nothing
