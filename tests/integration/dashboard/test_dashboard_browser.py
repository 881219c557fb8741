"""The dashboard in a real browser: Playwright (Python) drives Debian's headless chromium against
the real ``sixbtc api`` serving a home seeded by a real ``sixbtc run --once`` on ../shared/data
(:mod:`sixbtc.testing.dashboard`).

Checked on every page: the tables hold the database's numbers (read through the repositories,
not through the API); a change written to the database reaches the open page over the
WebSocket without a reload; the emergency stop asks for confirmation, changes nothing before
it, and then sets the trading state HALTED. A screenshot of each page is saved under
``test-artifacts/dashboard/`` (or ``SIXBTC_SCREENSHOTS``).

``SIXBTC_DASHBOARD_SEEDED_HOME=DIR`` reuses (a copy of) a home seeded by ``seed_home`` before,
to iterate quickly. Skipped, saying why, when the real data, chromium or the built front end (``make web``) is absent.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import distinct, func, select

from sixbtc.adapters.storage.tables import StrategyEventRow
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.domain.risk import GLOBAL_SCOPE, TradingState
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyStatus, StrategyType
from sixbtc.testing.dashboard import CHROMIUM, DATA, seed_home, serve

playwright = pytest.importorskip("playwright.sync_api")
REPO = Path(__file__).resolve().parents[3]
SHOTS = Path(os.environ.get("SIXBTC_SCREENSHOTS", REPO / "test-artifacts" / "dashboard"))
VIEWPORT = {"width": 1280, "height": 860}
#: Development shortcut: reuse a home seeded by :func:`seed_home` before (copied, never changed).
SEEDED = os.environ.get("SIXBTC_DASHBOARD_SEEDED_HOME")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Container, object]]:
    if not DATA.is_dir():
        pytest.skip(f"real market data not found at {DATA} (../shared/data is absent)")
    if not CHROMIUM.exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (`make chromium` installs Debian's package)")
    if not (REPO / "web" / "dist" / "index.html").is_file():
        pytest.skip("the front end is not built (web/dist): run `make web`")
    root = tmp_path_factory.mktemp("dash") / "home"
    if SEEDED:  # a home seeded before by seed_home (development shortcut), copied: the tests write to it
        shutil.copytree(SEEDED, root, ignore=shutil.ignore_patterns("*.db-shm", "*.db-wal", "api_token"))
    else:
        seed_home(root)
    c = Container.open(Home(root))
    with serve(root) as served:
        yield c, served
    c.engine.dispose()


@pytest.fixture(scope="module")
def browser(world) -> Iterator[object]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(world, browser) -> Iterator[object]:
    """One tab for the module (a new one costs seconds), logged in through the login URL the
    server printed; each test starts from the page it opens through the navigation bar."""
    _, served = world
    ctx = browser.new_context(viewport=VIEWPORT)
    pg = ctx.new_page()
    pg.goto(served.login_url)
    playwright.expect(pg.get_by_test_id("feed-state")).to_have_text("live", timeout=10_000)
    yield pg
    ctx.close()


def _shot(pg: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"))


def _reached(c: Container) -> dict[str, int]:
    """Status → strategies that ever entered it, counted in SQL on the events table."""
    e = StrategyEventRow.__table__
    q = select(e.c.to_status, func.count(distinct(e.c.strategy_name))).where(e.c.to_status.is_not(None))
    with c.engine.connect() as conn:
        return dict(conn.execute(q.group_by(e.c.to_status)).all())


def _column(pg: object, table: str, col: int) -> list[str]:
    return [t.strip() for t in pg.locator(f"[data-testid={table}] tbody tr td:nth-child({col})").all_inner_texts()]


def test_pipeline_shows_the_database_counts_and_updates_over_the_websocket(world, page) -> None:
    c, _ = world
    page.get_by_test_id("nav-pipeline").click()
    counts = c.strategies.counts_by_status()
    assert counts.get("LIVE", 0) > 0, f"the seeding cycle put no strategy LIVE: {counts}"
    for status, n in counts.items():
        playwright.expect(page.get_by_test_id(f"count-{status}").locator("b")).to_have_text(str(n))
    reached = _reached(c)
    prev = None
    for stage in ("GENERATED", "VALIDATED", "ACTIVE", "LIVE"):
        box = page.get_by_test_id(f"funnel-{stage}")
        playwright.expect(box.locator("b")).to_have_text(str(reached.get(stage, 0)))
        if prev:
            playwright.expect(box.locator("em")).to_have_text(f"→ {100 * reached.get(stage, 0) / prev:.1f} %")
        prev = reached.get(stage, 0)
    failures = c.strategies.rejections_by_reason()
    if failures:
        reason, n = max(failures.items(), key=lambda kv: kv[1])
        row = page.locator("[data-testid=failures] tbody tr", has_text=reason).first
        playwright.expect(row).to_contain_text(str(n))
    _shot(page, "pipeline")
    page.evaluate("window.__marker = 1")  # survives only if the page is not reloaded
    before = counts.get("GENERATED", 0)
    c.strategies.add(StrategyCandidate("Strategy_MOM_wsupdate1", StrategyType.MOM, StrategySource.TEMPLATE,
                                       "class S:\n    pass\n", "e" * 64))
    playwright.expect(page.get_by_test_id("count-GENERATED").locator("b")).to_have_text(str(before + 1),
                                                                                      timeout=10_000)
    playwright.expect(page.get_by_test_id("feed-events")).to_contain_text("Strategy_MOM_wsupdate1")
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"


def test_pool_table_holds_the_pool_and_sorts(world, page) -> None:
    c, _ = world
    page.get_by_test_id("nav-pool").click()
    rows = [r for s in (StrategyStatus.LIVE, StrategyStatus.ACTIVE) for r in c.strategies.list_by_status(s)]
    assert rows, "the seeding cycle left the pool empty"
    table = page.get_by_test_id("pool-table")
    playwright.expect(table.locator("tbody tr")).to_have_count(len(rows))
    assert sorted(_column(page, "pool-table", 1)) == sorted(r.name for r in rows)
    by_name = {r.name: r for r in rows}
    for name, score in zip(_column(page, "pool-table", 1), _column(page, "pool-table", 6), strict=True):
        assert float(score) == pytest.approx(round(by_name[name].score, 1)), name
    table.locator("th[data-col=score]").click()  # descending
    shown = [float(s) for s in _column(page, "pool-table", 6)]
    assert shown == sorted(shown, reverse=True)
    _shot(page, "pool")


def test_strategy_detail_shows_source_results_trades_and_events(world, page) -> None:
    c, _ = world
    rec = c.strategies.list_by_status(StrategyStatus.LIVE)[0]
    page.goto(page.url.split("#")[0] + f"#/strategy/{rec.id}")
    playwright.expect(page.get_by_test_id("strategy-head")).to_contain_text(rec.name)
    playwright.expect(page.get_by_test_id("code").locator("span.hljs-keyword").first).to_be_visible()
    for key in rec.params:
        playwright.expect(page.get_by_test_id("params")).to_contain_text(key)
    playwright.expect(page.get_by_test_id("trade-chart").locator("canvas").first).to_be_visible()
    playwright.expect(page.get_by_test_id("results-tf").locator("tbody tr").first).to_be_visible()
    trades = c.trading.trades(rec.id)
    if trades:
        playwright.expect(page.get_by_test_id("trades").locator("tbody tr")).to_have_count(len(trades))
    events = c.dashboard.events_for(rec.id)
    playwright.expect(page.get_by_test_id("events").locator("tbody tr")).to_have_count(len(events))
    _shot(page, "strategy")


def test_data_page_holds_every_stored_series(world, page) -> None:
    c, _ = world
    page.get_by_test_id("nav-data").click()
    stored = {(e.symbol, e.timeframe): e.rows for e in c.store.inventory()}
    assert stored, "the seeded store is empty"
    playwright.expect(page.get_by_test_id("coverage").locator("tbody tr")).to_have_count(len(stored))
    shown = {(a, b): int(n) for a, b, n in zip(_column(page, "coverage", 1), _column(page, "coverage", 2),
                                              _column(page, "coverage", 5), strict=True)}
    assert shown == stored
    _shot(page, "data")


def test_live_page_and_the_emergency_stop_with_confirmation(world, page) -> None:
    c, _ = world
    page.get_by_test_id("nav-live").click()
    subs = c.trading.subaccounts()
    playwright.expect(page.get_by_test_id("subaccounts").locator("tbody tr")).to_have_count(len(subs))
    assert sorted(_column(page, "subaccounts", 1)) == sorted(s["label"] for s in subs)
    balances = dict(zip(_column(page, "subaccounts", 1), _column(page, "subaccounts", 5), strict=True))
    for s in subs:
        assert float(balances[s["label"]]) == pytest.approx(round(s["balance_usd"], 4)), s["label"]
    opened = c.trading.open_positions()
    if opened:
        playwright.expect(page.get_by_test_id("positions").locator("tbody tr")).to_have_count(len(opened))
    playwright.expect(page.get_by_test_id("halt-state")).to_have_text("trading ACTIVE")
    _shot(page, "live")
    page.get_by_test_id("emergency-stop").click()
    playwright.expect(page.get_by_test_id("confirm-box")).to_be_visible()
    assert c.trading_states.get(GLOBAL_SCOPE).state is TradingState.ACTIVE, "nothing may happen before confirming"
    page.get_by_test_id("cancel-stop").click()
    playwright.expect(page.get_by_test_id("confirm-box")).to_have_count(0)
    assert c.trading_states.get(GLOBAL_SCOPE).state is TradingState.ACTIVE
    page.get_by_test_id("emergency-stop").click()
    page.get_by_test_id("confirm-stop").click()
    playwright.expect(page.get_by_test_id("action-msg")).to_contain_text("trading HALTED")
    rec = c.trading_states.get(GLOBAL_SCOPE)
    assert rec.state is TradingState.HALTED and rec.reason == "emergency_stop"
    assert re.match(r"by api@127\.0\.0\.1; close_positions=no", rec.detail), rec.detail
    playwright.expect(page.get_by_test_id("halt-banner")).to_have_text("TRADING HALTED", timeout=10_000)
    playwright.expect(page.get_by_test_id("halt-state")).to_contain_text("TRADING HALTED")
    _shot(page, "live-halted")
    page.get_by_test_id("clear-halt").click()
    playwright.expect(page.get_by_test_id("halt-state")).to_have_text("trading ACTIVE", timeout=10_000)
    assert c.trading_states.get(GLOBAL_SCOPE).state is TradingState.ACTIVE
