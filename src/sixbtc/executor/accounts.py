"""Sub-account funds and agent wallets: what to transfer and what to renew (SPEC §3.7, §3.9).

Pure planning over what the venue reports; :mod:`sixbtc.app.accounts` executes the plans
through the :class:`~sixbtc.executor.venue.ExchangeClient` port (the scheduler's
``check_subaccount_funds`` and ``renew_agent_wallets`` jobs, and ``sixbtc accounts``).

Top-up rule: every sub-account whose equity is below ``accounts.top_up_below_usd`` (50) is
brought to ``accounts.top_up_to_usd`` (100) by a transfer **from the master** — funds never
move from one sub-account to another — neediest first (lowest equity), as long as the master
keeps ``accounts.master_reserve_usd`` available; a top-up the reserve cannot pay is skipped
whole (never a partial transfer) and reported, and the smaller ones after it still go.

Agent rule: an agent wallet with an expiry less than ``accounts.agent_renew_days`` (30) away —
or already past — is renewed (approved again under its name for ``accounts.agent_valid_days``).
An agent without expiry is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sixbtc.config.sections import AccountsSection
from sixbtc.domain.orders import AgentWallet, Balance, SubAccount

DAY_MS = 86_400_000


@dataclass(frozen=True)
class TopUp:
    """Transfer ``amount_usd`` from the master to ``sub`` (equity ``equity_usd`` before it)."""

    sub: SubAccount
    equity_usd: float
    amount_usd: float


@dataclass(frozen=True)
class TopUpPlan:
    """The transfers to make, the top-ups skipped ((sub, equity, why)), and the master's
    available USD before and after the transfers."""

    transfers: list[TopUp] = field(default_factory=list)
    skipped: list[tuple[SubAccount, float, str]] = field(default_factory=list)
    master_before_usd: float = 0.0
    master_after_usd: float = 0.0


def plan_top_ups(subs: Sequence[tuple[SubAccount, Balance]], master_available_usd: float,
                 cfg: AccountsSection) -> TopUpPlan:
    """The top-ups due (see the module docstring).

    Parameters
    ----------
    subs : sequence of (SubAccount, Balance)
        Every sub-account with its balance on the venue.
    master_available_usd : float
        What the master may transfer now (USD).
    cfg : AccountsSection

    Returns
    -------
    TopUpPlan
        Amounts rounded to cents; transfers neediest first.
    """
    plan = TopUpPlan(master_before_usd=master_available_usd)
    budget = master_available_usd - cfg.master_reserve_usd
    needy = sorted((p for p in subs if p[1].equity_usd < cfg.top_up_below_usd), key=lambda p: (p[1].equity_usd, p[0].name))
    for sub, bal in needy:
        amount = round(cfg.top_up_to_usd - bal.equity_usd, 2)
        if amount <= budget:
            plan.transfers.append(TopUp(sub, bal.equity_usd, amount))
            budget -= amount
        else:
            plan.skipped.append((sub, bal.equity_usd, f"needs {amount:.2f} USD, the master has {max(budget, 0):.2f} USD "
                                                      f"above its reserve of {cfg.master_reserve_usd:.2f} USD"))
    return TopUpPlan(plan.transfers, plan.skipped, master_available_usd,
                     master_available_usd - sum(t.amount_usd for t in plan.transfers))


def plan_agent_renewals(agents: Sequence[AgentWallet], now_ms: int, cfg: AccountsSection) -> list[AgentWallet]:
    """The agents to renew: expiry before ``now_ms + agent_renew_days`` (expired ones included),
    by name; agents without expiry never."""
    horizon = now_ms + cfg.agent_renew_days * DAY_MS
    return sorted((a for a in agents if a.valid_until_ms is not None and a.valid_until_ms < horizon),
                  key=lambda a: a.name)
