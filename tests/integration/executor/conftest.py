"""Executor integration fixtures; helpers live in ``executor_world`` (put on ``sys.path`` here,
as in ``tests/integration/storage``, so test modules and child processes can import it)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from executor_world import CONFIG, write_candles  # noqa: E402

from sixbtc.app.container import Container  # noqa: E402
from sixbtc.app.home import Home  # noqa: E402


@pytest.fixture
def make_world(tmp_path: Path) -> Callable[..., Container]:
    """``make_world(symbols=("BTC", "ETH"), max_open=3)`` → a Container on a fresh home."""

    def build(symbols: tuple[str, ...] = ("BTC", "ETH"), max_open: int = 3, root: Path | None = None,
              daily_limit: int = 300) -> Container:
        home = Home(root or tmp_path / "home")
        home.ensure().config_path.write_text(CONFIG.format(max_open=max_open, daily_limit=daily_limit))
        c = Container.open(home)
        write_candles(c, symbols)
        return c

    return build
