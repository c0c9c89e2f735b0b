"""The portal in process over a migrated SQLite ledger. Its Temporal client records every
workflow handle asked for and refuses to go further: a page test that should not reach a
workflow proves it did not."""

from __future__ import annotations

import re
import string
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.app import create_app
from api.portal.tokens import portal_token
from config.settings import Settings
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from tests.ledger_support import make_customer, make_invoice, sqlite_url

WEB_SECRET = "portal-test-key-0123456789abcdef"


@dataclass
class RecordingClient:
    """Stands in for the Temporal client: notes the workflow asked for, then fails loudly."""

    asked: list[str] = field(default_factory=list)

    def get_workflow_handle(self, workflow_id: str, **_: Any) -> Any:
        self.asked.append(workflow_id)
        raise AssertionError(f"the page reached workflow {workflow_id}")


@dataclass
class Portal:
    http: httpx.AsyncClient
    sessions: sessionmaker[Session]
    settings: Settings
    temporal: RecordingClient

    def token(self, customer_id: str, invoice_number: str | None = None) -> str:
        return portal_token(self.settings, customer_id, invoice_number)

    def seed(self, build: Callable[[Session], object]) -> None:
        with unit_of_work(self.sessions) as session:
            build(session)


def portal_settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=sqlite_url(tmp_path),
        web_secret=SecretStr(WEB_SECRET),
        **overrides,
    )


@asynccontextmanager
async def portal_over_ledger(
    tmp_path: Path, *, connected: bool = True, **overrides: Any
) -> AsyncIterator[Portal]:
    """``connected=False``: the app has no Temporal client at all (the server is down)."""
    settings = portal_settings(tmp_path, **overrides)
    engine = create_ledger_engine(settings.ledger_url)
    sessions = make_session_factory(engine)
    temporal = RecordingClient()
    app = create_app(settings, sessions, client=cast(Client, temporal) if connected else None)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
            yield Portal(http, sessions, settings, temporal)
    finally:
        engine.dispose()


def santiago_today() -> date:
    return datetime.now(ZoneInfo("America/Santiago")).date()


def two_customers(session: Session, *, today: date) -> None:
    """Customer A (Spanish, two CLP invoices, one USD) and customer B (English, one invoice)."""
    make_customer(session, "C-A", name="Ferretería Andes", locale="es_CL")
    make_customer(
        session, "C-B", name="Pacific Imports", locale="en_US", email="ap@pacific.example"
    )
    make_invoice(
        session,
        "F-A1",
        customer_id="C-A",
        amount_minor=1_250_000,
        issued_on=today - timedelta(days=40),
        due_on=today - timedelta(days=10),
        stage="overdue",
    )
    make_invoice(
        session,
        "F-A2",
        customer_id="C-A",
        amount_minor=480_500,
        issued_on=today - timedelta(days=5),
        due_on=today + timedelta(days=25),
    )
    make_invoice(
        session,
        "F-A3",
        customer_id="C-A",
        currency="USD",
        amount_minor=99_950,
        issued_on=today - timedelta(days=5),
        due_on=today + timedelta(days=25),
        stage="current",
    )
    make_invoice(
        session,
        "F-B1",
        customer_id="C-B",
        amount_minor=777_000,
        issued_on=today - timedelta(days=40),
        due_on=today - timedelta(days=3),
        stage="overdue",
    )


def csrf_token_in(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


BASE64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def tampered(token: str, position: int) -> str:
    """``token`` with one character changed in a high bit of its 6: the last character of a
    base64 signature carries unused low bits, so changing only those would change nothing."""
    index = position % len(token)
    original = token[index]
    assert original in BASE64URL, f"position {position} is a separator"
    changed = BASE64URL[BASE64URL.index(original) ^ 0b100000]
    return token[:index] + changed + token[index + 1 :]
