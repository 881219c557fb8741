"""Schemathesis: every operation of the OpenAPI schema, fed generated inputs (valid and invalid),
answers as the schema says (no server error, documented status codes and content types,
responses conforming to the schema, invalid input refused).

The application is built at import (schemathesis reads its schema then; its ``from_fixture``
loader does not work with this pytest) over a temporary home that a module fixture seeds
and removes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from tests.unit.api.conftest import AUTH, TOKEN, add_active, promote

from sixbtc.api.app import create_app
from sixbtc.app.container import Container
from sixbtc.app.home import Home

_ROOT = Path(tempfile.mkdtemp(prefix="sixbtc-schema-"))
_C = Container.open(Home(_ROOT))
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_C, TOKEN, static_dir=None))


@pytest.fixture(scope="module", autouse=True)
def seeded() -> Iterator[None]:
    """Two ACTIVE strategies and a LIVE one with a position, removed after the module."""
    add_active(_C, 1, 55.0)
    promote(_C, add_active(_C, 2, 70.0))
    yield
    _C.engine.dispose()
    shutil.rmtree(_ROOT, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_the_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=AUTH)
