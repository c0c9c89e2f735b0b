"""Payments on Temporal's time-skipping server, through the ERP's way in (``record_payment``:
ledger row first, then the workflow's signal), with the real activities writing a SQLite ledger.

A full payment at any stage ends the dunning at once; a partial one carries on with the new
balance; an overpayment becomes customer credit; an ERP re-sending a payment changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import cast

import pytest
from temporalio.testing import WorkflowEnvironment

from dunning_policies.language import Channel
from ledger.db import unit_of_work
from ledger.repositories.credits import CreditRepository
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.payments import PaymentRepository
from ledger.repositories.tasks import TaskRepository
from tests.workflows.harness import (
    Harness,
    RecordingSender,
    at_local,
    contact_at,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
    until,
)
from workflows.invoice import InvoiceDunningWorkflow

# What the standard policy has sent by the end of each of these days (relative to the due date).
SENT_BY_DAY = {
    -3: [("preventive", "email", "before_due", "sent")],
    0: [("due_day", "email", "due_today", "sent")],
    3: [("overdue_3", "whatsapp", "overdue", "sent")],
    10: [("overdue_10", "sms", "overdue", "sent")],
}


def sent_by(day: int) -> list[tuple[str, str, str, str]]:
    return [row for d, rows in SENT_BY_DAY.items() if d <= day for row in rows]


async def issue(env: WorkflowEnvironment, harness: Harness, number: str) -> date:
    """Issue ``number`` (1.250.000 CLP, standard policy) today, due on a Tuesday ≥ 10 days out."""
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    await harness.issue(number, due, issued_on=today)
    return due


def kinds_after(harness: Harness, number: str, moment: datetime) -> list[str]:
    return [line.kind for line in harness.bitacora(number) if line.at >= moment]


@pytest.mark.parametrize(
    ("number", "pay_on_day"),
    [
        pytest.param("PAY-BEFORE", -3, id="before-due-after-preventive"),
        pytest.param("PAY-DUEDAY", 0, id="on-the-due-day-after-due_day"),
        pytest.param("PAY-ESCAL", 3, id="mid-escalation-after-overdue_3"),
        pytest.param("PAY-NEGOT", 15, id="in-negotiation-with-a-task-open"),
    ],
)
async def test_a_full_payment_ends_the_dunning_at_once(
    time_skipping_env: WorkflowEnvironment, tmp_path, number: str, pay_on_day: int
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, tmp_path) as harness:
        due = await issue(env, harness, number)
        # Two hours after that day's message (which a holiday may move to the next opening).
        paid_at = await sleep_until(
            env, contact_at(due + timedelta(days=pay_on_day)) + timedelta(hours=2)
        )
        payment = await harness.pay(number, "1250000", paid_at, reference="TRX-1")
        outcome = await harness.handle(f"invoice-{number}").result()

        assert (outcome.stage, outcome.amount_due) == ("paid", Decimal(0))
        assert payment.delivered_to_workflow
        # Exactly the messages due before the payment, and none after it.
        assert harness.outbox(number) == sent_by(pay_on_day)
        sent_at = [line.at for line in harness.bitacora(number) if line.kind == "message_sent"]
        assert all(at < paid_at for at in sent_at)
        after = kinds_after(harness, number, paid_at)
        assert [k for k in after if not k.startswith("task_")] == ["payment_received", "closed"]
        with unit_of_work(harness.sessions) as session:
            invoice = InvoiceRepository.from_session(session).get(number)
            assert invoice is not None
            assert (invoice.stage, invoice.amount_due_minor, invoice.closed_reason) == (
                "paid",
                0,
                "paid",
            )
            tasks = [(t.id, t.status) for t in TaskRepository.from_session(session).list_tasks()]
        if pay_on_day < 15:
            assert tasks == []
        else:
            # A paid invoice must leave the collectors' inbox: its task may not stay 'open'.
            [(task_id, status)] = tasks
            assert task_id == f"T-{number}-collector_call-1"
            assert status in ("completed", "expired"), (
                f"task {task_id} is still {status!r} in the ledger after the invoice was paid"
            )


async def test_a_partial_payment_carries_on_with_the_new_balance(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "PAY-PARTIAL"
    async with running_worker(env.client, tmp_path) as harness:
        due = await issue(env, harness, number)
        paid_at = await sleep_until(env, at_local(due + timedelta(days=1), 12))
        await harness.pay(number, "250000", paid_at, reference="TRX-1")
        await sleep_until(env, contact_at(due + timedelta(days=3)) + timedelta(hours=2))

        emails = cast(RecordingSender, harness.senders[Channel.EMAIL]).sent
        whatsapps = cast(RecordingSender, harness.senders[Channel.WHATSAPP]).sent
        assert [m.template for m in emails] == ["before_due", "due_today"]
        assert all("$1.250.000" in m.body for m in emails)
        [overdue] = whatsapps
        assert overdue.template == "overdue"
        assert "$1.000.000" in overdue.body and "$1.250.000" not in overdue.body
        assert harness.outbox(number) == sent_by(3)
        [received] = [line for line in harness.bitacora(number) if line.kind == "payment_received"]
        assert received.detail["amount"] == "250000"
        assert received.detail["amount_due"] == "1000000"
        status = await harness.handle(f"invoice-{number}").query(InvoiceDunningWorkflow.status)
        assert (status.stage, status.amount_due) == ("overdue", Decimal(1_000_000))

        # The rest closes it.
        rest_at = await sleep_until(env, (await env.get_current_time()) + timedelta(days=1))
        await harness.pay(number, "1000000", rest_at, reference="TRX-2")
        outcome = await harness.handle(f"invoice-{number}").result()
        assert (outcome.stage, outcome.amount_due) == ("paid", Decimal(0))
        assert kinds_after(harness, number, rest_at) == ["payment_received", "closed"]


async def test_an_overpayment_is_kept_as_customer_credit(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "PAY-OVER"
    async with running_worker(env.client, tmp_path) as harness:
        due = await issue(env, harness, number)
        paid_at = await sleep_until(env, contact_at(due + timedelta(days=3)) + timedelta(hours=2))
        await harness.pay(number, "1300000", paid_at, reference="TRX-1")

        # The ledger follows the workflow's close: the 50.000 excess is the customer's credit.
        await until(env, lambda: credit_minor(harness) == 50_000, "credit of 50000 booked")
        outcome = await harness.handle(f"invoice-{number}").result()
        assert outcome.stage == "paid"
        assert kinds_after(harness, number, paid_at) == [
            "payment_received",
            "closed",
            "credit_recorded",
        ]
        assert harness.outbox(number) == sent_by(3)
        with unit_of_work(harness.sessions) as session:
            invoice = InvoiceRepository.from_session(session).get(number)
            assert invoice is not None
            assert (invoice.stage, invoice.amount_due_minor) == ("paid", 0)


def credit_minor(harness: Harness) -> int:
    with unit_of_work(harness.sessions) as session:
        return CreditRepository.from_session(session).balance_minor(harness.customer_id, "CLP")


async def test_the_same_payment_sent_twice_counts_once(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "PAY-TWICE"
    async with running_worker(env.client, tmp_path) as harness:
        due = await issue(env, harness, number)
        paid_at = await sleep_until(env, at_local(due + timedelta(days=1), 12))
        first = await harness.pay(number, "250000", paid_at, reference="TRX-1")
        again = await harness.pay(number, "250000", paid_at, reference="TRX-1")

        assert (first.new, again.new) == (True, False)
        assert first.payment_id == again.payment_id == f"{number}:TRX-1"
        handle = harness.handle(f"invoice-{number}")
        await until(env, lambda: "payment_received" in kinds_after(harness, number, paid_at))
        status = await handle.query(InvoiceDunningWorkflow.status)
        assert [e.kind for e in status.timeline if e.kind == "payment_received"] == [
            "payment_received"
        ]
        assert status.amount_due == Decimal(1_000_000)
        await sleep_until(env, at_local(due + timedelta(days=2), 12))
        assert kinds_after(harness, number, paid_at) == ["payment_received"]
        with unit_of_work(harness.sessions) as session:
            payments = PaymentRepository.from_session(session).list_for_invoice(number)
            assert [(p.id, p.amount_minor) for p in payments] == [(f"{number}:TRX-1", 250_000)]
