"""The pool's admission helpers: behaviour fingerprints and the coins a LIVE strategy trades."""

from __future__ import annotations

from sixbtc.pool.admission import behaviour_fingerprint, live_symbols


def test_identical_behaviour_gives_one_fingerprint_and_any_difference_another() -> None:
    oos = {"n_trades": 42.0, "total_return": 0.1234, "sharpe": 1.5}
    assert behaviour_fingerprint("1h", oos) == behaviour_fingerprint("1h", dict(oos))
    assert len(behaviour_fingerprint("1h", oos)) == 16
    assert behaviour_fingerprint("4h", oos) != behaviour_fingerprint("1h", oos)
    assert behaviour_fingerprint("1h", dict(oos, n_trades=43.0)) != behaviour_fingerprint("1h", oos)


def test_live_coins_are_the_oos_profitable_ones_best_sharpe_first_at_most_five() -> None:
    coins = [(f"C{i}", float(i), 0.01 if i % 2 else -0.01, 0.0) for i in range(12)]
    assert live_symbols(coins) == ["C11", "C9", "C7", "C5", "C3"]
    assert live_symbols(coins, limit=2) == ["C11", "C9"]


def test_with_no_coin_profitable_out_of_sample_the_best_in_sample_ones_are_taken() -> None:
    coins = [("BTC", 2.0, -0.1, 0.5), ("ETH", 1.0, 0.0, 1.5), ("SOL", 0.5, -0.2, 1.0)]
    assert live_symbols(coins) == ["ETH", "SOL", "BTC"]
