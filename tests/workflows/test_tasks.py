"""A collector's answer to a negotiation task (the ``complete_task`` Update), on Temporal's
time-skipping server with the real activities writing a SQLite ledger.

Every scenario opens the standard policy's collector task (due + 15 days, 10:00 Santiago) and
answers it at 11:00 that day. A bad answer is rejected to the caller and writes nothing; a good
one moves the invoice: a promise pauses contact, a refusal hands off, a dispute stops everything
until it is resolved.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from dunning_policies.state import TaskOutcome
from dunning_policies.transitions import TaskCompletion
from ledger.db import unit_of_work
from ledger.repositories.handoffs import HandoffRepository
from ledger.repositories.tasks import TaskRepository
from tests.workflows.harness import (
    Harness,
    at_local,
    contact_at,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
    until,
)
from workflows.invoice import LATE_GATHER, InvoiceDunningWorkflow
from workflows.messages import DisputeResolution

BEFORE_NEGOTIATION = [
    ("preventive", "email", "before_due", "sent"),
    ("due_day", "email", "due_today", "sent"),
    ("overdue_3", "whatsapp", "overdue", "sent"),
    ("overdue_10", "sms", "overdue", "sent"),
]


async def at_negotiation(
    env: WorkflowEnvironment, harness: Harness, number: str, *, contact_days: tuple[int, ...] = ()
) -> date:
    """Issue ``number`` today, due on a Tuesday ≥ 10 days out, and move to due + 15 days at
    11:00, an hour after the collector task opened. Returns the due date. ``contact_days``:
    days after the due date that must be days the customer may be contacted (the suite's
    clock moves on, and may meet a public holiday)."""
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    while any(
        contact_at(due + timedelta(days=d)).date() != due + timedelta(days=d) for d in contact_days
    ):
        due += timedelta(days=7)
    await harness.issue(number, due, issued_on=today)
    await sleep_until(env, at_local(due + timedelta(days=15), 11))
    return due


def task_id(number: str, attempt: int = 1) -> str:
    return f"T-{number}-collector_call-{attempt}"


def tasks(harness: Harness) -> list[tuple[str, str, str | None]]:
    with unit_of_work(harness.sessions) as session:
        found = TaskRepository.from_session(session).list_tasks()
        return [(t.id, t.status, t.outcome) for t in found]


async def complete(harness: Harness, number: str, outcome: TaskOutcome, **fields: Any) -> Any:
    completion = TaskCompletion(task_id=task_id(number), outcome=outcome, **fields)
    return await harness.handle(f"invoice-{number}").execute_update(
        InvoiceDunningWorkflow.complete_task, completion
    )


def since_task(harness: Harness, number: str) -> list[str]:
    kinds = [line.kind for line in harness.bitacora(number)]
    return kinds[kinds.index("task_opened") :]


def on_time(actual: datetime, planned: datetime) -> bool:
    """At once: a message due now waits only for the customer's other invoices to join it."""
    return timedelta(0) <= actual - planned < LATE_GATHER + timedelta(seconds=5)


WORKFLOW_TASK_ONLY = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
}

# (answer, error type, part of its message). A payload the model refuses never reaches the
# validator: the SDK rejects the update while decoding it, with the pydantic error as the cause.
REJECTED = {
    "unknown-task": ({"task_id": "T-unknown", "outcome": "no_contact"}, "InvalidCompletion",
                     "unknown task 'T-unknown'"),
    "promise-without-date": ({"outcome": "promise_to_pay"}, "InvalidCompletion",
                             "promise_to_pay needs promised_date"),
    "promise-in-the-past": ({"outcome": "promise_to_pay", "promised_date": "yesterday"},
                            "InvalidCompletion", "must be between"),
    "outcome-not-in-the-enum": ({"outcome": "maybe"}, "RuntimeError", "Failed decoding arguments"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REJECTED))
async def test_a_bad_answer_is_rejected_to_the_caller_and_writes_nothing(
    time_skipping_env: WorkflowEnvironment, tmp_path, case: str
) -> None:
    env, number = time_skipping_env, f"TSK-REJ-{case}"
    answer, error_type, error_text = REJECTED[case]
    async with running_worker(env.client, tmp_path) as harness:
        await at_negotiation(env, harness, number)
        handle = harness.handle(f"invoice-{number}")
        payload = {"task_id": task_id(number), **answer}
        if payload.get("promised_date") == "yesterday":
            yesterday = await today_in_santiago(env) - timedelta(days=1)
            payload["promised_date"] = yesterday.isoformat()
        history = len((await handle.fetch_history()).events)
        before = await handle.query(InvoiceDunningWorkflow.status)

        with pytest.raises(WorkflowUpdateFailedError) as rejected:
            await handle.execute_update("complete_task", payload)

        cause = rejected.value.cause
        assert isinstance(cause, ApplicationError)
        assert cause.type == error_type and error_text in cause.message
        if error_type == "RuntimeError":
            assert isinstance(cause.cause, ApplicationError)
            assert cause.cause.type == "ValidationError" and "outcome" in cause.cause.message
        # No update event, no command. (The time-skipping server records the workflow task that
        # carried the update; a real server drops its speculative task.)
        added = (await handle.fetch_history()).events[history:]
        assert {e.event_type for e in added} <= WORKFLOW_TASK_ONLY
        after = await handle.query(InvoiceDunningWorkflow.status)
        assert (after.timeline, after.open_task) == (before.timeline, before.open_task)
        assert tasks(harness) == [(task_id(number), "open", None)]
        assert since_task(harness, number) == ["task_opened"]


async def test_a_broken_promise_pauses_contact_then_resumes_with_a_notice_and_a_new_task(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "TSK-BROKEN"
    async with running_worker(env.client, tmp_path) as harness:
        # The notice goes the day after the promised date, at 10:00: a contact day.
        due = await at_negotiation(env, harness, number, contact_days=(17,))
        promised = due + timedelta(days=16)
        answer = await complete(harness, number, TaskOutcome.PROMISE_TO_PAY, promised_date=promised)
        # Checked at 10:00 the day after the promised date (one day of grace).
        deadline = at_local(promised + timedelta(days=1))
        assert (answer.action, answer.at) == ("check promise", deadline)

        await sleep_until(env, deadline - timedelta(minutes=1))
        assert harness.outbox(number) == BEFORE_NEGOTIATION  # silence while the promise runs
        status = await harness.handle(f"invoice-{number}").query(InvoiceDunningWorkflow.status)
        assert status.stage == "promise"

        await sleep_until(env, at_local(promised + timedelta(days=1), 12))
        # The time-skipping server does not hold its clock while an activity runs: on a busy
        # machine the notice's chain (request, 2 minutes' gathering, send) may end a little
        # after the jump.
        expected = [
            *BEFORE_NEGOTIATION,
            ("promise_broken-1", "whatsapp", "promise_broken", "sent"),
        ]
        await until(env, lambda: harness.outbox(number) == expected, "the broken-promise notice")
        assert since_task(harness, number) == [
            "task_opened",
            "task_completed",
            "promise_made",
            "promise_broken",
            "task_opened",
            "message_sent",  # after the customer's other invoices had LATE_GATHER to join it
        ]
        lines = harness.bitacora(number)
        broken, reopened, notice = lines[-3:]
        assert on_time(broken.at, deadline) and on_time(notice.at, deadline)
        assert (notice.step_id, notice.channel) == ("promise_broken-1", "whatsapp")
        assert reopened.detail["task_id"] == task_id(number, 2)
        assert tasks(harness) == [
            (task_id(number), "completed", "promise_to_pay"),
            (task_id(number, 2), "open", None),
        ]


async def test_a_kept_promise_ends_with_the_invoice_paid(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "TSK-KEPT"
    async with running_worker(env.client, tmp_path) as harness:
        due = await at_negotiation(env, harness, number)
        await complete(
            harness, number, TaskOutcome.PROMISE_TO_PAY, promised_date=due + timedelta(days=17)
        )
        paid_at = await sleep_until(env, at_local(due + timedelta(days=16), 12))
        await harness.pay(number, "1250000", paid_at, reference="TRX-1")
        outcome = await harness.handle(f"invoice-{number}").result()

        assert (outcome.stage, outcome.amount_due) == ("paid", Decimal(0))
        assert harness.outbox(number) == BEFORE_NEGOTIATION
        assert since_task(harness, number) == [
            "task_opened",
            "task_completed",
            "promise_made",
            "payment_received",
            "promise_kept",
            "closed",
        ]
        assert tasks(harness) == [(task_id(number), "completed", "promise_to_pay")]


async def test_a_refusal_hands_the_invoice_to_the_agency_at_once(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "TSK-REFUSED"
    async with running_worker(env.client, tmp_path) as harness:
        await at_negotiation(env, harness, number)
        answered_at = await env.get_current_time()
        answer = await complete(harness, number, TaskOutcome.REFUSED, note="no pagará")
        assert answer.action == "hand off to Agencia de Cobranza Extrajudicial"

        await until(env, lambda: handoffs(harness) != [], "handoff recorded")
        [(invoice, amount_due_minor, created_at)] = handoffs(harness)
        assert (invoice, amount_due_minor) == (number, 1_250_000)
        assert on_time(created_at, answered_at)
        status = await harness.handle(f"invoice-{number}").query(InvoiceDunningWorkflow.status)
        assert status.stage == "handoff"
        assert since_task(harness, number) == ["task_opened", "task_completed", "handed_off"]
        assert tasks(harness) == [(task_id(number), "completed", "refused")]
        assert harness.outbox(number) == BEFORE_NEGOTIATION


def handoffs(harness: Harness) -> list[tuple[str, int, datetime]]:
    with unit_of_work(harness.sessions) as session:
        found = HandoffRepository.from_session(session).list_handoffs()
        return [(h.invoice_number, h.amount_due_minor, h.created_at) for h in found]


async def open_a_dispute(env: WorkflowEnvironment, harness: Harness, number: str) -> date:
    due = await at_negotiation(env, harness, number)
    await complete(harness, number, TaskOutcome.DISPUTE, note="mercadería dañada")
    # Ten quiet days: past the final notice (due + 18) and the task's SLA (due + 20).
    await sleep_until(env, at_local(due + timedelta(days=25), 11))
    status = await harness.handle(f"invoice-{number}").query(InvoiceDunningWorkflow.status)
    assert status.stage == "disputed"
    assert harness.outbox(number) == BEFORE_NEGOTIATION
    # The case's ten days ran out on due + 25 at 10:00: said once, for the dispute desk.
    assert since_task(harness, number) == [
        "task_opened",
        "task_completed",
        "dispute_opened",
        "dispute_overdue",
    ]
    return due


async def test_a_rejected_dispute_resumes_the_dunning(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "TSK-DISPUTE-NO"
    async with running_worker(env.client, tmp_path) as harness:
        due = await open_a_dispute(env, harness, number)
        resolved_at = await env.get_current_time()
        await harness.handle(f"invoice-{number}").signal(
            InvoiceDunningWorkflow.resolve_dispute, DisputeResolution(upheld=False, note="sin daño")
        )
        # Dunning resumes where it was: the dispute held it from due + 15 to due + 25, so the
        # final notice (due + 18) goes on due + 28, not at once.
        planned = contact_at(due + timedelta(days=28))
        await sleep_until(env, planned + timedelta(hours=2))

        assert harness.outbox(number) == [
            *BEFORE_NEGOTIATION,
            ("final_notice", "email", "final_notice", "sent"),
        ]
        lines = harness.bitacora(number)
        resumed = [line for line in lines if line.at >= resolved_at and line.kind != "task_opened"]
        assert [(line.kind, line.step_id) for line in resumed] == [
            ("dispute_resolved", None),
            ("message_sent", "final_notice"),
        ]
        assert resumed[0].detail["paused_days"] == "10"
        assert timedelta(0) <= resumed[1].at - planned < timedelta(seconds=5)


async def test_a_rejected_dispute_still_leads_somewhere(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    """After the collector's dispute is rejected and the last reminder is out, the unpaid invoice
    must still have a next step (a new collector task or the agency), not wait forever."""
    env, number = time_skipping_env, "TSK-DISPUTE-END"
    async with running_worker(env.client, tmp_path) as harness:
        await open_a_dispute(env, harness, number)
        handle = harness.handle(f"invoice-{number}")
        await handle.signal(InvoiceDunningWorkflow.resolve_dispute, DisputeResolution(upheld=False))
        due = (await today_in_santiago(env)) - timedelta(days=25)
        await sleep_until(env, contact_at(due + timedelta(days=28)) + timedelta(hours=2))
        assert len(harness.outbox(number)) == 5, "the final notice sent"

        status = await handle.query(InvoiceDunningWorkflow.status)
        assert status.amount_due == Decimal(1_250_000)
        assert status.open_task is not None or status.next_action.at is not None, (
            f"dead end in stage {status.stage!r}: {status.next_action.detail!r}, no open task"
        )


async def test_an_upheld_dispute_credits_the_invoice(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "TSK-DISPUTE-YES"
    async with running_worker(env.client, tmp_path) as harness:
        await open_a_dispute(env, harness, number)
        handle = harness.handle(f"invoice-{number}")
        await handle.signal(InvoiceDunningWorkflow.resolve_dispute, DisputeResolution(upheld=True))
        outcome = await handle.result()

        assert (outcome.stage, outcome.amount_due) == ("credited", Decimal(0))
        assert harness.outbox(number) == BEFORE_NEGOTIATION
        assert since_task(harness, number)[-4:] == [
            "dispute_overdue",
            "dispute_resolved",
            "credit_note_applied",
            "closed",
        ]
