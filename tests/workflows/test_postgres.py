"""The same scenarios with the ledger on PostgreSQL: the workflow runs on Temporal's time-skipping
server and every activity writes a fresh, migrated schema (``postgres_schema_url``).

Without PostgreSQL these tests skip locally and fail in CI (``require_postgres``), so CI can
never go green without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from temporalio.testing import WorkflowEnvironment

from dunning_policies.state import TaskOutcome
from dunning_policies.transitions import TaskCompletion
from ledger.db import unit_of_work
from ledger.repositories.handoffs import HandoffRepository
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.payments import PaymentRepository
from ledger.repositories.tasks import TaskRepository
from tests.ledger_support import postgres_schema_url
from tests.workflows.harness import (
    Harness,
    at_local,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
)
from workflows.invoice import InvoiceDunningWorkflow

pytestmark = pytest.mark.postgres

REMINDERS = [
    ("preventive", "email", "before_due", "sent"),
    ("due_day", "email", "due_today", "sent"),
    ("overdue_3", "whatsapp", "overdue", "sent"),
    ("overdue_10", "sms", "overdue", "sent"),
]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_schema_url() as url:
        yield url


def on_time(actual: datetime, planned: datetime) -> bool:
    return timedelta(0) <= actual - planned < timedelta(seconds=5)


def dialect(harness: Harness) -> str:
    return harness.sessions.kw["bind"].dialect.name


async def issue(env: WorkflowEnvironment, harness: Harness, number: str) -> date:
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    await harness.issue(number, due, issued_on=today)
    return due


async def test_an_unpaid_invoice_reaches_the_agency_on_postgres(
    time_skipping_env: WorkflowEnvironment, tmp_path, postgres_url: str
) -> None:
    env, number = time_skipping_env, "PG-LIFE"
    async with running_worker(env.client, tmp_path, ledger_url=postgres_url) as harness:
        assert dialect(harness) == "postgresql"
        due = await issue(env, harness, number)
        await sleep_until(env, at_local(due + timedelta(days=25)))

        assert harness.outbox(number) == [
            *REMINDERS,
            ("final_notice", "email", "final_notice", "sent"),
        ]
        lines = harness.bitacora(number)
        assert [line.kind for line in lines] == [
            "issued", "message_sent", "message_sent", "message_sent", "message_sent",
            "task_opened", "message_sent", "task_expired", "handed_off",
        ]  # fmt: skip
        with unit_of_work(harness.sessions) as session:
            tasks = [(t.id, t.status) for t in TaskRepository.from_session(session).list_tasks()]
            [handoff] = HandoffRepository.from_session(session).list_handoffs()
            invoice = InvoiceRepository.from_session(session).get(number)
        assert tasks == [(f"T-{number}-collector_call-1", "expired")]
        assert (handoff.invoice_number, handoff.amount_due_minor) == (number, 1_250_000)
        assert on_time(handoff.created_at, at_local(due + timedelta(days=20)))
        assert invoice is not None and (invoice.stage, invoice.amount_due_minor) == (
            "handoff",
            1_250_000,
        )


async def test_a_promise_kept_in_two_payments_on_postgres(
    time_skipping_env: WorkflowEnvironment, tmp_path, postgres_url: str
) -> None:
    env, number = time_skipping_env, "PG-PROMISE"
    async with running_worker(env.client, tmp_path, ledger_url=postgres_url) as harness:
        assert dialect(harness) == "postgresql"
        due = await issue(env, harness, number)
        first_at = await sleep_until(env, at_local(due + timedelta(days=1), 12))
        await harness.pay(number, "250000", first_at, reference="TRX-1")
        await harness.pay(number, "250000", first_at, reference="TRX-1")  # the ERP re-sends it
        await sleep_until(env, at_local(due + timedelta(days=15), 11))
        handle = harness.handle(f"invoice-{number}")
        await handle.execute_update(
            InvoiceDunningWorkflow.complete_task,
            TaskCompletion(
                task_id=f"T-{number}-collector_call-1",
                outcome=TaskOutcome.PROMISE_TO_PAY,
                promised_date=due + timedelta(days=17),
                collector="ana",
            ),
        )
        rest_at = await sleep_until(env, at_local(due + timedelta(days=16), 12))
        await harness.pay(number, "1000000", rest_at, reference="TRX-2")
        outcome = await handle.result()

        assert (outcome.stage, outcome.amount_due) == ("paid", Decimal(0))
        assert harness.outbox(number) == REMINDERS
        received = [line for line in harness.bitacora(number) if line.kind == "payment_received"]
        assert [(r.detail["amount"], r.detail["amount_due"]) for r in received] == [
            ("250000", "1000000"),
            ("1000000", "0"),
        ]
        assert [line.kind for line in harness.bitacora(number)] == [
            "issued", "message_sent", "message_sent", "payment_received", "message_sent",
            "message_sent", "task_opened", "task_completed", "promise_made", "payment_received",
            "promise_kept", "closed",
        ]  # fmt: skip
        with unit_of_work(harness.sessions) as session:
            payments = PaymentRepository.from_session(session).list_for_invoice(number)
            [task] = TaskRepository.from_session(session).list_tasks()
            invoice = InvoiceRepository.from_session(session).get(number)
        assert sorted((p.id, p.amount_minor) for p in payments) == [
            (f"{number}:TRX-1", 250_000),
            (f"{number}:TRX-2", 1_000_000),
        ]
        assert (task.status, task.outcome, task.detail["collector"]) == (
            "completed",
            "promise_to_pay",
            "ana",
        )
        assert invoice is not None
        assert (invoice.stage, invoice.amount_due_minor, invoice.closed_reason) == (
            "paid",
            0,
            "paid",
        )
