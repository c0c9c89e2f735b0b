"""A worker with the real activities on a SQLite ledger, delivering to recording senders."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from activities.channels.base import ChannelSender, OutboundMessage
from activities.channels.console import ConsoleSender
from api.invoicing import CustomerDetails, NewInvoice, issue_invoice
from config.settings import Settings
from dunning_policies.language import Channel
from ledger.db import create_ledger_engine, make_session_factory
from tests.ledger_support import sqlite_url
from worker import build_worker


@dataclass
class RecordingSender:
    """Delivers like the console channel and remembers what it sent."""

    provider: str = "console"
    sent: list[OutboundMessage] = field(default_factory=list)
    _console: ConsoleSender = field(default_factory=lambda: ConsoleSender(write=lambda _: None))

    def send(self, message: OutboundMessage) -> str:
        self.sent.append(message)
        return self._console.send(message)


@dataclass
class Harness:
    client: Client
    sessions: sessionmaker[Session]
    settings: Settings
    senders: dict[Channel, ChannelSender]

    async def issue(
        self,
        number: str,
        due_on: date,
        *,
        issued_on: date,
        amount: str = "1250000",
        currency: str = "CLP",
        segment: str = "standard",
        customer: CustomerDetails | None = None,
    ) -> str:
        details = customer or CustomerDetails(
            id="C-7", name="Ferretería Los Andes SpA", country="CL",
            timezone="America/Santiago", locale="es_CL", email="pagos@losandes.cl",
            phone="+56912345678", whatsapp="+56912345678", segment=segment,
        )
        issued = await issue_invoice(
            self.client, self.sessions, self.settings.task_queue,
            NewInvoice(number, details.id, Decimal(amount), currency, issued_on, due_on),
            details,
        )
        return issued.workflow_id


def recording_senders() -> dict[Channel, ChannelSender]:
    return {channel: RecordingSender() for channel in Channel}


@asynccontextmanager
async def running_worker(
    client: Client, tmp_path: Path, senders: dict[Channel, ChannelSender] | None = None
) -> AsyncIterator[Harness]:
    settings = Settings(
        task_queue=f"dunning-{uuid.uuid4().hex[:8]}", data_dir=tmp_path, activity_threads=8
    )
    engine = create_ledger_engine(sqlite_url(tmp_path))
    sessions = make_session_factory(engine)
    senders = senders or recording_senders()
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with build_worker(client, settings, sessions, senders, executor):
            yield Harness(client, sessions, settings, senders)
    engine.dispose()
