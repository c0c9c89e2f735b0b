"""The skip-or-fail rule for a missing PostgreSQL, which keeps CI honest."""

from __future__ import annotations

import pytest

from tests.ledger_support import require_postgres

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/test"


def test_without_postgres_a_local_run_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNNING_TEST_POSTGRES_URL", UNREACHABLE)
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match="PostgreSQL unreachable"):
        require_postgres()


def test_without_postgres_ci_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNNING_TEST_POSTGRES_URL", UNREACHABLE)
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match="CI must run"):
        require_postgres()
