"""The live-trading gate of ``sixbtc run`` (SPEC §3.7 "Paper mode is the default").

Real orders need two explicit signals — ``--live`` on the command line AND
``executor.dry_run: false`` in the configuration — plus the agent wallet key from the
environment or a mode-0600 file (:func:`sixbtc.config.secrets.agent_key`). One signal without
the other refuses to start (a ``ConfigError`` saying which is missing). Paper mode reads no key
and builds no signer. Before trading, ``--live`` prints what will trade (:func:`live_warning`)
and waits :data:`LIVE_DELAY_S` seconds (Ctrl-C aborts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sixbtc.config import Settings
from sixbtc.config.secrets import agent_key
from sixbtc.core.errors import ConfigError
from sixbtc.domain.strategy import StrategyStatus

if TYPE_CHECKING:  # the CLI imports this module at start: the container (SQLAlchemy) only when used
    from sixbtc.app.container import Container

#: Seconds ``--live`` waits after its warning (only tests pass 0, through an explicit option).
LIVE_DELAY_S = 5.0


def trading_mode(settings: Settings, live_flag: bool, *, once: bool = False) -> str:
    """``"paper"`` or ``"live"`` from the two signals.

    Raises
    ------
    ConfigError
        ``--live`` without ``executor.dry_run: false``, ``dry_run: false`` without ``--live``,
        or ``--live`` with ``--once`` (the cycle replays stored history: there is nothing live).
    """
    dry = settings.executor.dry_run
    if live_flag and once:
        raise ConfigError("--live cannot be combined with --once: the cycle replays stored candles on the paper venue")
    if live_flag and dry:
        raise ConfigError("executor.dry_run: --live was given but executor.dry_run is true; real orders need both "
                          "--live and executor.dry_run: false (or SIXBTC__EXECUTOR__DRY_RUN=false); for paper trading "
                          "(the default) run without --live")
    if not live_flag and not dry:
        raise ConfigError("executor.dry_run is false but --live was not given: refusing to start. Real orders need "
                          "both; for paper trading set executor.dry_run: true (or SIXBTC__EXECUTOR__DRY_RUN=true)")
    return "live" if live_flag else "paper"


@dataclass(frozen=True)
class LivePlan:
    """What ``--live`` will trade: the venue, the master wallet, where the agent key came from,
    and per LIVE strategy (name, sub-account, symbols, capital in USD)."""

    venue: str
    wallet: str | None
    key_source: str
    strategies: tuple[tuple[str, str, tuple[str, ...], float], ...]
    paper_only: tuple[str, ...] = ()  # LIVE strategies on sub-accounts given in paper mode: not traded

    @property
    def capital_usd(self) -> float:
        """Capital of all LIVE strategies (USD)."""
        return sum(s[3] for s in self.strategies)


def live_plan(c: Container) -> LivePlan:
    """Check the agent key (never building a signer) and list what will trade.

    Raises
    ------
    ConfigError
        From :func:`sixbtc.config.secrets.agent_key` (no key, a key file readable by others).
    """
    _, source = agent_key(c.settings, config_path=c.home.config_path)
    attached = c.trading.attached()
    rows, paper = [], []
    for rec in c.strategies.list_by_status(StrategyStatus.LIVE):
        sub = attached.get(rec.id)
        if sub is not None and sub["mode"] == "live":
            rows.append((rec.name, sub["label"], tuple(rec.symbols), float(sub["capital_usd"])))
        elif sub is not None:
            paper.append(rec.name)
    return LivePlan(c.settings.exchange.execution_venue, c.settings.exchange.wallet_address, source, tuple(rows),
                    tuple(paper))


def live_warning(plan: LivePlan) -> str:
    """The warning ``--live`` prints before it waits (several lines)."""
    lines = [f"LIVE TRADING on {plan.venue}: real orders with real money (master wallet {plan.wallet or 'not set'}, "
             f"agent key from {plan.key_source}).",
             f"{len(plan.strategies)} LIVE strategies, capital {plan.capital_usd:,.2f} USD:"]
    lines += [f"  {name} on sub-account {sub}: {', '.join(symbols)} ({cap:,.2f} USD)"
              for name, sub, symbols, cap in plan.strategies]
    if not plan.strategies:
        lines.append("  (none yet: the rotator will promote strategies, which then trade for real)")
    if plan.paper_only:
        lines.append(f"Not traded live (promoted in paper mode, paper balances): {', '.join(plan.paper_only)}")
    lines.append("`sixbtc emergency-stop` halts everything at any time.")
    return "\n".join(lines)
