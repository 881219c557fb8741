"""Sub-account funds and agent wallets as callable operations (``sixbtc accounts``; the
scheduler's ``check_subaccount_funds`` at 01:15 and ``renew_agent_wallets`` at 01:10 UTC).

Each operation takes the venue port and the ``accounts`` section and returns a report; the
rules are in :mod:`sixbtc.executor.accounts`. A transfer or an approval is a write and is
never retried blindly: a failure is reported (run again after checking the balances).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sixbtc.config.sections import AccountsSection
from sixbtc.core.errors import SixbtcError
from sixbtc.domain.orders import AgentWallet, Balance, SubAccount
from sixbtc.executor.accounts import TopUpPlan, plan_agent_renewals, plan_top_ups
from sixbtc.executor.venue import ExchangeClient


@dataclass(frozen=True)
class AccountsOverview:
    """The master's balance, every sub-account with its balance and open positions, the agents."""

    master: Balance
    subs: list[tuple[SubAccount, Balance, int]]
    agents: list[AgentWallet]


def overview(venue: ExchangeClient, master: str) -> AccountsOverview:
    """Read balances, position counts and agents (reads only)."""
    subs = [(s, venue.balance(s.address), len(venue.positions(s.address))) for s in venue.subaccounts()]
    return AccountsOverview(venue.balance(master), subs, venue.agents())


@dataclass
class TopUpReport:
    """The plan, the transfers done ((sub name, USD)) and the failures ((sub name, error))."""

    plan: TopUpPlan
    done: list[tuple[str, float]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def top_up(venue: ExchangeClient, master: str, cfg: AccountsSection) -> TopUpReport:
    """Top up the sub-accounts below the threshold from the master (never sub → sub).

    Parameters
    ----------
    venue : ExchangeClient
    master : str
        The master's account on the venue (its address; ``"master"`` on paper).
    cfg : AccountsSection
    """
    subs = [(s, venue.balance(s.address)) for s in venue.subaccounts()]
    report = TopUpReport(plan_top_ups(subs, venue.balance(master).available_usd, cfg))
    for t in report.plan.transfers:
        try:
            venue.transfer_usd(t.sub.address, t.amount_usd, to_subaccount=True)
            report.done.append((t.sub.name, t.amount_usd))
        except SixbtcError as exc:
            report.failures.append((t.sub.name, f"{type(exc).__name__}: {exc}"))
    return report


@dataclass
class RenewReport:
    """Agents renewed ((old, new)) and failures ((agent name, error))."""

    renewed: list[tuple[AgentWallet, AgentWallet]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def renew_agents(venue: ExchangeClient, cfg: AccountsSection, now_ms: int) -> RenewReport:
    """Renew every agent wallet expiring within ``agent_renew_days`` of ``now_ms`` (UTC ms; see
    :mod:`sixbtc.executor.accounts`)."""
    report = RenewReport()
    for old in plan_agent_renewals(venue.agents(), now_ms, cfg):
        try:
            report.renewed.append((old, venue.approve_agent(old.name, cfg.agent_valid_days)))
        except SixbtcError as exc:
            report.failures.append((old.name, f"{type(exc).__name__}: {exc}"))
    return report
