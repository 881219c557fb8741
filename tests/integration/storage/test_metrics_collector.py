"""Issue 13, metrics collector on SQLite and PostgreSQL: a snapshot stored in
``pipeline_metrics_snapshots`` from the real repositories, exported for Prometheus, through the
API's ``/metrics`` route and the standalone port (real HTTP on 127.0.0.1, read with httpx)."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from storage_support import T0, candidate

from sixbtc.api.app import create_app
from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.app.metrics import collect_now, prometheus_text, serve_prometheus
from sixbtc.config import Settings
from sixbtc.core.clock import SimClock
from sixbtc.domain.strategy import StrategyStatus


def _container(tmp_path: Path, db_url: str, **extra: object) -> Container:
    settings = Settings(database={"url": db_url}, **extra)
    return Container(Home(tmp_path / "home"), settings, SimClock(T0))


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def _pipeline(c: Container) -> None:
    for i in range(6):
        c.strategies.add(candidate(i))
    c.clock.advance_to(c.clock.now() + timedelta(minutes=5))
    a = c.strategies.claim(StrategyStatus.GENERATED, "validator@test:1")
    c.strategies.transition(a.id, a.claim_token, StrategyStatus.VALIDATED, phase="validator", reason="validator:passed")
    b = c.strategies.claim(StrategyStatus.GENERATED, "validator@test:1")
    c.strategies.reject(b.id, b.claim_token, phase="validator:static", reason="lookahead:negative_shift")


def test_snapshot_is_stored_and_exported(tmp_path: Path, db_url: str) -> None:
    c = _container(tmp_path, db_url)
    _pipeline(c)
    snap = collect_now(c)
    stored = c.ops.latest_snapshot()
    assert stored is not None and stored["status"] == snap.status == "WARNING"  # empty pool, nothing LIVE
    assert stored["data"] == snap.data and stored["ts"] == c.clock.now()
    d = stored["data"]
    assert d["counts"]["GENERATED"] == 4 and d["counts"]["VALIDATED"] == 1
    assert [r["entered"] for r in d["funnel_24h"]] == [6, 1, 0, 0]
    assert d["failures_24h"] == [{"reason": "lookahead:negative_shift", "count": 1}]
    assert {r["status"]: r["median_s"] for r in d["stage_times_24h"]}["GENERATED"] == 300.0
    assert d["reasons"] == ["ACTIVE pool empty", "no LIVE strategy"]
    m = _samples(prometheus_text(c).decode())
    assert m[("sixbtc_strategies", (("status", "GENERATED"),))] == 4
    assert m[("sixbtc_health_status", ())] == 1
    assert m[("sixbtc_failures_24h", (("reason", "lookahead:negative_shift"),))] == 1
    assert m[("sixbtc_funnel_rate_24h", (("stage", "VALIDATED"),))] == round(1 / 6, 4)
    assert m[("sixbtc_back_pressure_level", (("queue", "GENERATED"),))] == 0
    c.engine.dispose()


def test_api_metrics_route_serves_the_newest_snapshot(tmp_path: Path, db_url: str) -> None:
    c = _container(tmp_path, db_url)
    client = TestClient(create_app(c, "t" * 32, static_dir=None))
    assert client.get("/metrics").text == ""  # before the first snapshot
    _pipeline(c)
    collect_now(c)
    c.clock.advance_to(c.clock.now() + timedelta(minutes=1))
    c.strategies.add(candidate(99))
    collect_now(c)
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert _samples(r.text)[("sixbtc_strategies", (("status", "GENERATED"),))] == 5
    assert c.ops.count_snapshots() == 2
    c.engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_standalone_prometheus_port(tmp_path: Path, db_url: str) -> None:
    port = _free_port()
    c = _container(tmp_path, db_url, metrics={"prometheus_port": port})
    _pipeline(c)
    collect_now(c)
    server = serve_prometheus(c)
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        server.shutdown()
    assert _samples(text)[("sixbtc_strategies", (("status", "VALIDATED"),))] == 1
    c.engine.dispose()
