"""Benchmark: dashboard first paint, WebSocket update latency and bundle size (issue 14, "Note").

Run::

    nice -n 10 .venv/bin/python benchmarks/bench_dashboard.py [--home DIR] [--repeat 5] [--push-interval-s S]

What it does (prints figures, asserts nothing):

1. **World.** A home seeded by a real ``sixbtc run --once`` on ../shared/data
   (:func:`sixbtc.testing.dashboard.seed_home`: 3 coins, 1h, 6 strategies generated), or ``--home DIR``
   already seeded (kept; the measurement adds a few GENERATED strategies to it); the real ``sixbtc api`` serves it on 127.0.0.1 with
   ``api.push_interval_s`` = ``--push-interval-s``.
2. **First paint.** Playwright opens the login URL in a new headless chromium context (cold
   cache) ``--repeat`` times; each time the page's ``first-contentful-paint`` (Paint Timing API,
   ms since navigation start) is read. Median printed.
3. **WebSocket update.** With the Pipeline page open, a strategy is added to the database by
   this process (``StrategyRepository.add``); a MutationObserver in the page notes when the
   GENERATED count shows it. Latency = that moment − the write's commit (both epoch ms on this
   machine's clock). It includes the wait for the server's next change check (up to
   ``api.push_interval_s``), the snapshot query, the WebSocket message and React's render.
   Median of ``--repeat`` updates printed.
4. **Bundle.** Sum of the files Vite wrote to ``web/dist/assets`` (JavaScript and CSS), raw and gzip-compressed.

Last line: ``dashboard: first_paint_ms=F ws_update_ms=W bundle_kb=B``.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.config.sections import ApiSection
from sixbtc.domain.strategy import StrategyCandidate, StrategySource, StrategyType
from sixbtc.testing.dashboard import CHROMIUM, seed_home, serve

DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
OBSERVE = """() => {
  const before = document.querySelector('[data-testid=count-GENERATED] b')?.textContent ?? null;
  window.__shown = new Promise((resolve) => {
    const obs = new MutationObserver(() => {
      const now = document.querySelector('[data-testid=count-GENERATED] b');
      if (now && now.textContent !== before) { obs.disconnect(); resolve(performance.timeOrigin + performance.now()); }
    });
    obs.observe(document.querySelector('main'), { subtree: true, childList: true, characterData: true });
  });
}"""


def bundle_kb() -> tuple[float, float]:
    """(raw KB, gzip KB) of ``web/dist/assets``'s .js and .css files."""
    files = [f for f in (DIST / "assets").iterdir() if f.suffix in (".js", ".css")]
    raw = sum(f.stat().st_size for f in files)
    gz = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
    return raw / 1024, gz / 1024


def first_paints(browser: object, url: str, repeat: int) -> list[float]:
    """``first-contentful-paint`` (ms) of ``repeat`` cold loads of ``url``."""
    out = []
    for _ in range(repeat):
        ctx = browser.new_context(viewport={"width": 1280, "height": 860})
        page = ctx.new_page()
        page.goto(url)
        page.wait_for_selector("[data-testid=count-GENERATED]")
        fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
        if fcp is not None:
            out.append(float(fcp))
        ctx.close()
    return out


def ws_updates(browser: object, url: str, c: Container, repeat: int) -> list[float]:
    """Latency (ms) from a database write to the open page showing it, ``repeat`` times."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector("[data-testid=feed-state]:has-text('live')")
    page.wait_for_selector("[data-testid=count-GENERATED]")
    out = []
    for i in range(repeat):
        time.sleep(0.3)  # let the previous render settle
        page.evaluate(OBSERVE)  # arms the observer; the promise is kept in window.__shown
        suffix = f"{time.time_ns():x}{i}"
        c.strategies.add(StrategyCandidate(f"Strategy_MOM_bench{suffix}", StrategyType.MOM, StrategySource.TEMPLATE,
                                           "class S:\n    pass\n", f"{suffix:0>64}"[-64:]))
        written = time.time() * 1000
        shown = page.evaluate("window.__shown")
        out.append(shown - written)
    ctx.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", type=Path, help="An already seeded home (default: seed a temporary one)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--push-interval-s", type=float, default=ApiSection().push_interval_s,
                    help="api.push_interval_s of the served home (default: the product's default)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sixbtc-bench-dash-") as tmp:
        root = args.home
        if root is None:
            t0 = time.perf_counter()
            root = seed_home(Path(tmp) / "home")
            print(f"seeded by sixbtc run --once in {time.perf_counter() - t0:.1f} s")
        c = Container.open(Home(root))
        print(f"strategies by status: {c.strategies.counts_by_status()}")
        with serve(root, push_interval_s=args.push_interval_s) as served, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
            paints = first_paints(browser, served.login_url, args.repeat)
            updates = ws_updates(browser, served.login_url, c, args.repeat)
            browser.close()
        c.engine.dispose()
    raw, gz = bundle_kb()
    print(f"first paint (first-contentful-paint, cold context) ms: {[round(x) for x in paints]}")
    print(f"WebSocket update (DB write -> DOM, api.push_interval_s={args.push_interval_s}) ms: "
          f"{[round(x) for x in updates]}")
    print(f"bundle web/dist/assets (js+css): {raw:.1f} KB raw, {gz:.1f} KB gzip")
    print(f"dashboard: first_paint_ms={statistics.median(paints):.0f} ws_update_ms={statistics.median(updates):.0f} "
          f"bundle_kb={raw:.0f}")


if __name__ == "__main__":
    main()
