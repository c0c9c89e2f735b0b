"""Every ledger test runs twice: on a SQLite file and on a fresh PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ledger.db import create_ledger_engine
from tests.ledger_support import BACKENDS, postgres_schema_url, rolled_back_session, sqlite_url


@pytest.fixture(scope="session", params=BACKENDS)
def ledger_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A ledger migrated once per test session and backend, shared by the rolled-back tests."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path_factory.mktemp("ledger"))
        return
    with postgres_schema_url() as url:
        yield url


@pytest.fixture(scope="session")
def ledger_engine(ledger_url: str) -> Iterator[Engine]:
    engine = create_ledger_engine(ledger_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(ledger_engine: Engine) -> Iterator[Session]:
    with rolled_back_session(ledger_engine) as rolled_back:
        yield rolled_back


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own with no tables yet, for tests of migrations and of commits."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path, migrate=False)
        return
    with postgres_schema_url(migrate=False) as url:
        yield url
