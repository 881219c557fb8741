"""Sub-account top-ups and agent renewals (executor/accounts.py plans, app/accounts.py use cases)
against the ExchangeClient shipped in sixbtc.testing; amounts hand-computed."""

from __future__ import annotations

from sixbtc.app.accounts import overview, renew_agents, top_up
from sixbtc.config.sections import AccountsSection
from sixbtc.domain.orders import AgentWallet, Balance, Market, SubAccount
from sixbtc.executor.accounts import plan_agent_renewals, plan_top_ups
from sixbtc.testing.fake_exchange import MASTER, FakeExchange

CFG = AccountsSection()  # below 50 -> 100, master reserve 100, renew within 30 days for 180
DAY = 86_400_000
NOW = 1_750_000_000_000


def _sub(name: str, equity: float) -> tuple[SubAccount, Balance]:
    return SubAccount(name, name), Balance(name, equity, equity, 0.0)


def test_plan_tops_up_neediest_first_and_keeps_the_master_reserve() -> None:
    subs = [_sub("a", 49.99), _sub("b", 50.0), _sub("c", 10.0), _sub("d", 30.0)]
    plan = plan_top_ups(subs, 250.0, CFG)  # 150 above the reserve: c needs 90, d 70, a 50.01
    assert [(t.sub.name, t.amount_usd) for t in plan.transfers] == [("c", 90.0), ("a", 50.01)]  # d does not fit
    assert [s[0].name for s in plan.skipped] == ["d"]
    assert "needs 70.00 USD, the master has 60.00 USD above its reserve of 100.00 USD" in plan.skipped[0][2]
    assert plan.master_before_usd == 250.0 and plan.master_after_usd == 250.0 - 140.01 >= CFG.master_reserve_usd
    rich = plan_top_ups(subs, 1000.0, CFG)
    assert [(t.sub.name, t.amount_usd) for t in rich.transfers] == [("c", 90.0), ("d", 70.0), ("a", 50.01)]
    assert rich.master_after_usd == 1000.0 - 210.01 and not rich.skipped  # b at exactly 50 is not below


def test_top_up_transfers_from_the_master_only() -> None:
    v = FakeExchange({"BTC": Market("BTC", 5, 40)}, {"BTC": 60_000.0}, master_usd=400.0)
    v.add_subaccount("s1", 20.0)
    v.add_subaccount("s2", 80.0)
    v.add_subaccount("s3", 45.5)
    report = top_up(v, MASTER, CFG)
    assert report.done == [("s1", 80.0), ("s3", 54.5)] and not report.failures
    assert [c for c in v.calls] == [("transfer_usd", "s1", (80.0, True)), ("transfer_usd", "s3", (54.5, True))]
    assert v.balance(MASTER).equity_usd == 400.0 - 134.5 and v.balance("s1").equity_usd == 100.0
    assert top_up(v, MASTER, CFG).done == []  # all at or above 50 now: a second run does nothing
    view = overview(v, MASTER)
    assert [(s.name, b.equity_usd, n) for s, b, n in view.subs] == [("s1", 100.0, 0), ("s2", 80.0, 0), ("s3", 100.0, 0)]


def test_agents_expiring_within_30_days_are_renewed() -> None:
    agents = [AgentWallet("late", "0x1", NOW + 29 * DAY), AgentWallet("ok", "0x2", NOW + 31 * DAY),
              AgentWallet("forever", "0x3", None), AgentWallet("expired", "0x4", NOW - DAY)]
    assert [a.name for a in plan_agent_renewals(agents, NOW, CFG)] == ["expired", "late"]
    v = FakeExchange({}, {}, now_ms=NOW)
    for a in agents:
        v.agent_wallets[a.name] = a
    report = renew_agents(v, CFG, NOW)
    assert [(old.name, new.valid_until_ms) for old, new in report.renewed] == [
        ("expired", NOW + 180 * DAY), ("late", NOW + 180 * DAY)]
    assert v.calls == [("approve_agent", MASTER, ("expired", 180)), ("approve_agent", MASTER, ("late", 180))]
    assert renew_agents(v, CFG, NOW).renewed == []
