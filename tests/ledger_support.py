"""Ledger test support shared by every test folder: databases to run on, sessions, factories.

Both backends are real: a SQLite file under pytest's tmp_path, and a fresh schema on a real
PostgreSQL (``DUNNING_TEST_POSTGRES_URL``). Without PostgreSQL the tests that need it are
skipped locally and fail in CI (``CI`` set), so CI can never go green by skipping.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from ledger.db import normalize_url, upgrade_to_head
from ledger.models import Customer, Invoice
from ledger.repositories import CustomerRepository, InvoiceRepository

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = (
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
)
"""Parameters for a fixture that yields one database per backend (``request.param``)."""


def postgres_url() -> str:
    return os.environ.get("DUNNING_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def sqlite_url(tmp_path: Path, *, migrate: bool = True, name: str = "ledger.db") -> str:
    """A SQLite file ledger inside ``tmp_path``, migrated to head unless ``migrate=False``."""
    url = f"sqlite:///{(tmp_path / name).as_posix()}"
    if migrate:
        upgrade_to_head(url)
    return url


def require_postgres() -> str:
    """The PostgreSQL test URL; skips the test when unreachable, or fails it when ``CI`` is set."""
    url = postgres_url()
    try:
        with psycopg.connect(_libpq_dsn(url), connect_timeout=3):
            pass
    except psycopg.OperationalError as error:
        reason = (
            f"PostgreSQL unreachable at {make_url(url)!r} ({error}); set DUNNING_TEST_POSTGRES_URL"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason} — CI must run the PostgreSQL tests", pytrace=False)
        pytest.skip(reason)
    return url


@contextmanager
def postgres_schema_url(*, migrate: bool = True) -> Iterator[str]:
    """A URL whose connections live in a brand-new schema, dropped (CASCADE) on exit.

    The schema rides in the URL (``?options=-csearch_path=<schema>``), so the URL alone is
    enough for an engine, ``upgrade_to_head`` or a worker started in another process.
    """
    base = require_postgres()
    schema = f"dunning_t_{os.getpid()}_{secrets.token_hex(4)}"
    dsn = _libpq_dsn(base)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    url = (
        normalize_url(base)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    try:
        if migrate:
            upgrade_to_head(url)
        yield url
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def rolled_back_session(engine: Engine) -> Iterator[Session]:
    """A session whose every write is undone afterwards, even writes it committed.

    The outer transaction belongs to the test; the session works in savepoints inside it
    (``create_savepoint``), so code under test may commit or roll back freely.
    """
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


def _libpq_dsn(url: str) -> str:
    """The SQLAlchemy URL as psycopg wants it (no ``+psycopg`` driver suffix)."""
    return normalize_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# Factories: small typed functions with sensible Chilean defaults; override what a test cares about.


def make_customer(
    session: Session,
    customer_id: str = "C-1",
    *,
    name: str = "Comercial Los Andes SpA",
    email: str | None = "pagos@losandes.cl",
    phone: str | None = "+56911111111",
    whatsapp: str | None = "+56911111111",
    country: str = "CL",
    timezone: str = "America/Santiago",
    locale: str = "es_CL",
    segment: str | None = "smb",
    policy_override: str | None = None,
    tax_id: str | None = "76.123.456-7",
) -> Customer:
    return CustomerRepository.from_session(session).upsert(
        id=customer_id,
        name=name,
        email=email,
        phone=phone,
        whatsapp=whatsapp,
        country=country,
        timezone=timezone,
        locale=locale,
        segment=segment,
        policy_override=policy_override,
        tax_id=tax_id,
    )


def make_invoice(
    session: Session,
    number: str = "F-1001",
    *,
    customer_id: str = "C-1",
    currency: str = "CLP",
    amount_minor: int = 1_250_000,
    issued_on: date = date(2025, 3, 1),
    due_on: date = date(2025, 3, 31),
    stage: str = "issued",
) -> Invoice:
    if CustomerRepository.from_session(session).get(customer_id) is None:
        make_customer(session, customer_id)
    invoice, _ = InvoiceRepository.from_session(session).add_if_absent(
        number=number,
        customer_id=customer_id,
        currency=currency,
        amount_minor=amount_minor,
        issued_on=issued_on,
        due_on=due_on,
        segment="smb",
        policy_name="standard",
        policy_version=1,
        workflow_id=f"invoice-{number}",
        stage=stage,
    )
    return invoice


def at(text: str) -> datetime:
    """An aware UTC instant from ``'2025-03-31 12:00'``: keeps test data short and unambiguous."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_projected_invoice(
    session: Session,
    number: str,
    *,
    issued_on: date,
    due_on: date,
    amount_minor: int,
    stage: str,
    amount_due_minor: int,
    customer_id: str = "C-1",
    currency: str = "CLP",
) -> None:
    """An invoice as the workflow's projection left it: its stage and what is still due."""
    make_invoice(
        session,
        number,
        customer_id=customer_id,
        currency=currency,
        amount_minor=amount_minor,
        issued_on=issued_on,
        due_on=due_on,
    )
    closed = stage if stage in ("paid", "written_off", "cancelled") else None
    InvoiceRepository.from_session(session).record_projection(
        number,
        stage=stage,
        amount_due_minor=amount_due_minor,
        next_action=None,
        next_action_at=None,
        closed_reason=closed,
    )
