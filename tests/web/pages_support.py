"""The pages in process over a migrated SQLite ledger, without Temporal: for pages that read
the ledger (the inbox, the customer page's ledger parts)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from config.settings import Settings
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.repositories.tasks import TaskRepository
from tests.ledger_support import make_customer, make_invoice, sqlite_url


@dataclass
class Pages:
    http: httpx.AsyncClient
    sessions: sessionmaker[Session]
    settings: Settings


@asynccontextmanager
async def pages_over_ledger(tmp_path: Path) -> AsyncIterator[Pages]:
    settings = Settings(data_dir=tmp_path, database_url=sqlite_url(tmp_path))
    engine = create_ledger_engine(settings.ledger_url)
    sessions = make_session_factory(engine)
    app = create_app(settings, sessions, client=None)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://pages.test") as http:
            yield Pages(http, sessions, settings)
    finally:
        engine.dispose()


def open_task(
    session: Session,
    number: str,
    *,
    customer_id: str,
    customer_name: str | None = None,
    amount_minor: int,
    days_past_due: int,
    now: datetime,
    segment: str | None = "smb",
    sla_hours: float = 48,
) -> str:
    """An overdue invoice with an open collector task; returns the task id."""
    make_customer(
        session, customer_id, name=customer_name or f"Cliente {customer_id}", segment=segment
    )
    due = (now - timedelta(days=days_past_due)).date()
    make_invoice(
        session,
        number,
        customer_id=customer_id,
        amount_minor=amount_minor,
        issued_on=due - timedelta(days=30),
        due_on=due,
        stage="negotiation",
    )
    task_id = f"T-{number}-collector_call-1"
    TaskRepository.from_session(session).open_if_absent(
        id=task_id,
        invoice_number=number,
        customer_id=customer_id,
        workflow_id=f"invoice-{number}",
        queue="collectors",
        kind="negotiation",
        created_at=now - timedelta(hours=1),
        sla_due_at=now + timedelta(hours=sla_hours),
    )
    return task_id


def seed(sessions: sessionmaker[Session], build: object) -> None:
    with unit_of_work(sessions) as session:
        build(session)  # type: ignore[operator]
