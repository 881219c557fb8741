"""Shared fixtures of the configuration tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SIXBTC__* variable of the machine running the tests may leak into them."""
    for name in list(os.environ):
        if name.upper().startswith("SIXBTC__"):
            monkeypatch.delenv(name)

