"""The fake venue's own rules, driven by the raw SDK (no adapter rounding in between)."""

from __future__ import annotations

import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.types import Cloid

from sixbtc.testing.fake_hyperliquid import Fault

IOC = {"limit": {"tif": "Ioc"}}
GTC = {"limit": {"tif": "Gtc"}}
ALO = {"limit": {"tif": "Alo"}}


def sl(px: float) -> dict:
    return {"trigger": {"triggerPx": px, "isMarket": True, "tpsl": "sl"}}


@pytest.fixture
def ex(hl, master) -> Exchange:
    return Exchange(master, hl.base_url)


@pytest.fixture
def info(hl) -> Info:
    return Info(hl.base_url, skip_ws=True)


def status(answer: dict) -> object:
    assert answer["status"] == "ok", answer
    return answer["response"]["data"]["statuses"][0]


@pytest.mark.parametrize(("sz", "px", "message"), [
    (0.000001, 101_000, "Order has invalid size. asset=0"),
    (0.001, 100_000.5, "Price must be divisible by tick size. asset=0"),   # 7 significant figures, not an integer
    (0.001, 99_999.9, "Price must be divisible by tick size. asset=0"),    # 6 significant figures
    (0.00005, 101_000, "Order must have minimum value of $10. asset=0"),
])
def test_precision_and_min_value_errors(ex, sz, px, message) -> None:
    assert status(ex.order("BTC", True, sz, px, IOC)) == {"error": message}


def test_alo_rests_or_is_refused(ex) -> None:
    assert "resting" in status(ex.order("BTC", True, 0.001, 99_000, ALO))
    refused = status(ex.order("BTC", True, 0.001, 101_000, ALO))
    assert refused["error"].startswith("Post only order would have immediately matched, bbo was 100000")


def test_normal_tpsl_group_children_wait_for_the_parent(ex, hl, info, master) -> None:
    entry = {"coin": "BTC", "is_buy": True, "sz": 0.001, "limit_px": 99_000, "order_type": GTC, "reduce_only": False}
    stop = {"coin": "BTC", "is_buy": False, "sz": 0.001, "limit_px": 90_000, "order_type": sl(95_000), "reduce_only": True}
    answer = ex.bulk_orders([entry, stop], grouping="normalTpsl")
    assert answer["response"]["data"]["statuses"][1] == "waitingForFill"
    hl.set_mark("BTC", 94_000)  # parent fills at 99 000; only then the stop is armed (mark now through it)
    assert [f["oid"] for f in info.user_fills(master.address)][-1] == answer["response"]["data"]["statuses"][0]["resting"]["oid"]
    hl.set_mark("BTC", 93_900)
    assert info.user_state(master.address)["assetPositions"] == []
    assert len(info.user_fills(master.address)) == 2


def test_leverage_mode_cannot_switch_under_an_open_position(ex) -> None:
    assert ex.update_leverage(10, "BTC", is_cross=False)["status"] == "ok"
    status(ex.order("BTC", True, 0.001, 101_000, IOC))
    assert ex.update_leverage(5, "BTC", is_cross=True) == {
        "status": "err", "response": "Cannot switch leverage type with open position."}
    assert ex.update_leverage(41, "BTC", is_cross=False)["status"] == "err"  # above maxLeverage 40


def test_cancel_by_oid_and_order_status_by_oid_and_cloid(ex, info, master) -> None:
    cloid = Cloid("0x" + "12" * 16)
    oid = status(ex.order("ETH", True, 0.01, 2_500, GTC, cloid=cloid))["resting"]["oid"]
    by_oid = info.query_order_by_oid(master.address, oid)
    assert by_oid == info.query_order_by_cloid(master.address, cloid) and by_oid["order"]["status"] == "open"
    assert info.open_orders(master.address)[0]["cloid"] == str(cloid)
    assert status(ex.cancel("ETH", oid)) == "success"
    assert status(ex.cancel("ETH", oid)) == {"error": "Order was never placed, already canceled, or filled. asset=1"}
    assert info.query_order_by_oid(master.address, 1) == {"status": "unknownOid"}


def test_meta_and_asset_contexts_and_spot_meta(info) -> None:
    meta, ctxs = info.meta_and_asset_ctxs()
    assert [u["name"] for u in meta["universe"]] == ["BTC", "ETH", "SOL"] and ctxs[0]["markPx"] == "100000.0"
    assert info.spot_meta() == {"universe": [], "tokens": []} and info.all_mids()["SOL"] == "150.0"


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="fault kind"):
        Fault("explode")
    with pytest.raises(ValueError, match="fault path"):
        Fault("drop", path="/ws")
