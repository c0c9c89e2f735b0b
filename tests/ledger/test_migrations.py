from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from ledger.db import create_ledger_engine, make_alembic_config, upgrade_to_head
from ledger.models import Base

TABLES = {
    "alembic_version",
    "customers",
    "invoices",
    "payments",
    "interactions",
    "tasks",
    "handoffs",
    "outbox",
    "customer_credits",
    "api_keys",
    "credit_notes",
    "contact_blocks",
    "bank_lines",
    "promises",
    "dispute_cases",
    "payment_plans",
    "plan_instalments",
    "users",
    "payment_links",
    "customer_risk",
}
REPO_ROOT = Path(__file__).resolve().parents[2]


def _schema(url: str) -> tuple[set[str], str | None]:
    engine = create_ledger_engine(url)
    try:
        with engine.connect() as connection:
            version = MigrationContext.configure(connection).get_current_revision()
            return set(inspect(connection).get_table_names()), version
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_and_a_second_upgrade_is_a_no_op(empty_url: str) -> None:
    upgrade_to_head(empty_url)
    first = _schema(empty_url)

    upgrade_to_head(empty_url)

    assert first == (TABLES, "0008")
    assert _schema(empty_url) == first


def test_the_migrations_build_exactly_what_the_models_describe(empty_url: str) -> None:
    upgrade_to_head(empty_url)
    engine = create_ledger_engine(empty_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back_again(empty_url: str) -> None:
    from alembic import command

    upgrade_to_head(empty_url)
    command.downgrade(make_alembic_config(empty_url), "base")
    assert _schema(empty_url) == ({"alembic_version"}, None)

    upgrade_to_head(empty_url)
    assert _schema(empty_url) == (TABLES, "0008")


@pytest.mark.slow
def test_two_processes_upgrading_at_once_both_succeed(empty_url: str) -> None:
    # Both children sleep until the same instant, so their upgrades really overlap.
    start_at = time.time() + 2.0
    script = (
        "import sys, time; from ledger.db import upgrade_to_head; "
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); upgrade_to_head(sys.argv[1])"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, empty_url, str(start_at)],
            cwd=REPO_ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    errors = [child.communicate(timeout=60)[1] for child in children]

    assert [child.returncode for child in children] == [0, 0], errors
    assert _schema(empty_url) == (TABLES, "0008")
