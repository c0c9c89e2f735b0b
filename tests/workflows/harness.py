"""A worker with the real activities on a ledger (a tmp SQLite file, or any migrated URL such as
a PostgreSQL schema), delivering to recording senders; plus the clock and ledger helpers the
scenario tests share."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.channels.base import ChannelSender, OutboundMessage
from activities.channels.console import ConsoleSender
from activities.contracts import contact_workflow_id
from api.invoicing import CustomerDetails, NewInvoice, issue_invoice
from api.payments import RecordedPayment, record_payment
from config.settings import Settings
from dunning_policies.calendar import next_contact_moment
from dunning_policies.jurisdictions import DebtType, effective_rules, rules_for_customer
from dunning_policies.language import Channel
from dunning_policies.registry import get_policy
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.repositories.interactions import InteractionRepository
from ledger.repositories.outbox import OutboxRepository
from tests.ledger_support import sqlite_url
from worker import build_worker
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import InvoiceOutcome

SANTIAGO = ZoneInfo("America/Santiago")


@dataclass
class RecordingSender:
    """Delivers like the console channel and remembers what it sent."""

    provider: str = "console"
    blocking: bool = False
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
    started: list[str] = field(default_factory=list)
    customer_id: str = field(default_factory=lambda: f"C-7-{uuid.uuid4().hex[:8]}")
    """Each test's own customer: the customer's contact workflow must not carry another
    test's contacts (and the caps they count) into this one."""
    customers: set[str] = field(default_factory=set)

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
            id=self.customer_id,
            name="Ferretería Los Andes SpA",
            # A company: Ley 19.496's caps protect consumers (see test_contact_rules.py).
            debt_type=DebtType.BUSINESS,
            country="CL",
            timezone="America/Santiago",
            locale="es_CL",
            email="pagos@losandes.cl",
            phone="+56912345678",
            whatsapp="+56912345678",
            segment=segment,
        )
        issued = await issue_invoice(
            self.client,
            self.sessions,
            self.settings.task_queue,
            NewInvoice(number, details.id, Decimal(amount), currency, issued_on, due_on),
            details,
        )
        self.started.append(issued.workflow_id)
        self.customers.add(details.id)
        return issued.workflow_id

    def handle(self, workflow_id: str) -> WorkflowHandle[InvoiceDunningWorkflow, InvoiceOutcome]:
        """A typed handle: ``await handle.result()`` is an ``InvoiceOutcome``."""
        return self.client.get_workflow_handle_for(InvoiceDunningWorkflow.run, workflow_id)

    async def pay(
        self, number: str, amount: str, paid_at: datetime, reference: str | None = None
    ) -> RecordedPayment:
        """The ERP's way in: the ledger row first, then the workflow's signal."""
        return await record_payment(
            self.client,
            self.sessions,
            number,
            Decimal(amount),
            paid_at=paid_at,
            reference=reference,
        )

    def outbox(self, number: str) -> list[tuple[str, str, str, str]]:
        """(step, channel, template, status) of every outbox row of the invoice, in order."""
        with unit_of_work(self.sessions) as session:
            rows = OutboxRepository.from_session(session).list_messages(invoice_number=number)
            return [(m.step_id, m.channel, m.template, m.status) for m in rows]

    def bitacora(self, number: str) -> list[Line]:
        """Every bitácora line of the invoice, in order."""
        with unit_of_work(self.sessions) as session:
            rows = InteractionRepository.from_session(session).list_for_invoice(number)
            return [Line(i.occurred_at, i.kind, i.step_id, i.channel, dict(i.detail)) for i in rows]


@dataclass(frozen=True)
class Line:
    """One bitácora line, detached from its session."""

    at: datetime
    kind: str
    step_id: str | None
    channel: str | None
    detail: dict[str, object]


# --- the clock: every date is computed from the test server's "now", in the customer's zone ---


async def today_in_santiago(env: WorkflowEnvironment) -> date:
    return (await env.get_current_time()).astimezone(SANTIAGO).date()


def next_tuesday_after(day: date, at_least_days: int) -> date:
    """A Tuesday due date: no step of the standard policy then falls on a Sunday."""
    candidate = day + timedelta(days=at_least_days)
    return candidate + timedelta(days=(1 - candidate.weekday()) % 7)


def at_local(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SANTIAGO)


def contact_at(day: date) -> datetime:
    """When the harness's customer (a Chilean company, standard policy) is contacted for a step
    of ``day``: its 10:00, or the next opening of the window if that day is a holiday."""
    rules = effective_rules(
        rules_for_customer("CL", DebtType.BUSINESS, None, day), get_policy("standard")
    )
    moment, _ = next_contact_moment(at_local(day), rules, "America/Santiago")
    return moment.astimezone(SANTIAGO)


async def until(
    env: WorkflowEnvironment,
    check: Callable[[], bool],
    what: str = "",
    *,
    tries: int = 200,
    patience: float = 30.0,
) -> None:
    """Wait for an activity's write (the ledger follows the workflow asynchronously), moving
    the clock one second at a time; fails after ``tries`` seconds of server time (a message
    due at once waits ``LATE_GATHER`` for the customer's other invoices) and ``patience``
    seconds of wall time. The test server does not hold its clock while an activity runs, so
    on a busy machine server time can outrun the workers: past ``tries``, the clock moves
    slowly, giving them wall time."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + patience
    advanced = 0
    while not check():
        if advanced >= tries:
            if loop.time() > give_up_at:
                raise AssertionError(
                    f"{what or 'condition'}: still not true after {advanced} s of server time "
                    f"and {patience:.0f} s of wall time"
                )
            await asyncio.sleep(0.25)
        await env.sleep(timedelta(seconds=1))
        advanced += 1


async def sleep_until(env: WorkflowEnvironment, moment: datetime) -> datetime:
    """Skip the test server's clock to ``moment`` (every timer before it fires on the way)."""
    now = await env.get_current_time()
    assert moment > now, f"{moment} is already past ({now})"
    await env.sleep(moment - now)
    return await env.get_current_time()


def recording_senders() -> dict[Channel, ChannelSender]:
    return {channel: RecordingSender() for channel in Channel}


@asynccontextmanager
async def running_worker(
    client: Client,
    tmp_path: Path,
    senders: dict[Channel, ChannelSender] | None = None,
    *,
    ledger_url: str | None = None,
) -> AsyncIterator[Harness]:
    """``ledger_url`` must point at a migrated ledger; without one, a fresh SQLite file."""
    settings = Settings(
        task_queue=f"dunning-{uuid.uuid4().hex[:8]}", data_dir=tmp_path, activity_threads=8
    )
    engine = create_ledger_engine(ledger_url or sqlite_url(tmp_path))
    sessions = make_session_factory(engine)
    senders = senders or recording_senders()
    harness = Harness(client, sessions, settings, senders)
    with ThreadPoolExecutor(max_workers=8) as executor:
        try:
            async with build_worker(client, settings, sessions, senders, executor):
                yield harness
        finally:
            await _end_leftovers(harness)
    engine.dispose()


async def _end_leftovers(harness: Harness) -> None:
    """Terminate this worker's workflows that are still running. On the session-wide
    time-skipping server, a workflow whose timer fires after its worker has gone leaves a
    workflow task nobody polls, and that blocks time skipping for every later test (the next
    ``env.sleep`` times out)."""
    for workflow_id in harness.started:
        await terminate_when_idle(harness.handle(workflow_id))
    for customer_id in harness.customers:
        contact = harness.client.get_workflow_handle(contact_workflow_id(customer_id))
        await terminate_when_idle(contact)


async def terminate_when_idle(handle: WorkflowHandle[Any, Any]) -> None:
    """Terminate once no workflow task or activity is under way: the time-skipping server never
    releases the time lock of a workflow task in flight at termination (every later
    ``env.sleep`` then times out). A workflow already closed is left alone."""
    with suppress(RPCError):
        for _ in range(200):
            if await _idle(handle):
                break
            await asyncio.sleep(0.05)
        await handle.terminate(reason="test over")


async def _idle(handle: WorkflowHandle[Any, Any]) -> bool:
    """No workflow task and no activity under way, read from the history itself (the
    time-skipping server does not report pending workflow tasks in ``describe``)."""
    open_tasks = 0
    async for event in handle.fetch_history_events():
        if event.event_type in _OPENS:
            open_tasks += 1
        elif event.event_type in _CLOSES:
            open_tasks -= 1
    return open_tasks == 0


_OPENS = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
}
_CLOSES = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
}
