"""Promises to pay, payment plans and disputes as states of the invoice, each scenario with its
exact timeline, on the time-skipping server with the real activities."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio.testing import WorkflowEnvironment

from dunning_policies.state import DisputeCode, Instalment, TaskOutcome
from dunning_policies.transitions import TaskCompletion
from ledger.db import unit_of_work
from ledger.repositories.invoices import InvoiceRepository
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
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import DisputeOpening, DisputeResolution

UP_TO_THE_CALL = [
    ("issued", None),
    ("message_sent", "preventive"),
    ("message_sent", "due_day"),
    ("message_sent", "overdue_3"),
    ("message_sent", "overdue_10"),
    ("task_opened", "collector_call"),
]


def timeline(harness: Harness, number: str) -> list[tuple[str, str | None]]:
    return [(line.kind, line.step_id) for line in harness.bitacora(number)]


def stage(harness: Harness, number: str) -> str:
    with unit_of_work(harness.sessions) as session:
        invoice = InvoiceRepository.from_session(session).get(number)
        assert invoice is not None
        return invoice.stage


async def at_the_call(env: WorkflowEnvironment, harness: Harness, number: str) -> date:
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    await harness.issue(number, due, issued_on=today)
    await sleep_until(env, at_local(due + timedelta(days=15), 11))
    assert timeline(harness, number) == UP_TO_THE_CALL
    return due


async def answer(harness: Harness, number: str, outcome: TaskOutcome, **fields: Any) -> Any:
    completion = TaskCompletion(
        task_id=f"T-{number}-collector_call-1", outcome=outcome, collector="ana", **fields
    )
    return await harness.handle(f"invoice-{number}").execute_update(
        InvoiceDunningWorkflow.complete_task, completion
    )


async def pay(harness: Harness, number: str, amount: str, at: datetime) -> None:
    await harness.pay(number, amount, paid_at=at)


async def test_a_kept_promise_closes_the_invoice(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "AGR-PROMISE-KEPT"
    async with running_worker(env.client, tmp_path) as harness:
        due = await at_the_call(env, harness, number)
        await answer(
            harness, number, TaskOutcome.PROMISE_TO_PAY, promised_date=due + timedelta(days=20)
        )
        # The final notice (due + 18) does not go while the promise runs.
        await sleep_until(env, at_local(due + timedelta(days=19), 12))
        await pay(harness, number, "1250000", at_local(due + timedelta(days=19), 12))
        outcome = await harness.handle(f"invoice-{number}").result()

        assert (outcome.stage, outcome.amount_due) == ("paid", Decimal(0))
        assert timeline(harness, number) == [
            *UP_TO_THE_CALL,
            ("task_completed", "collector_call"),
            ("promise_made", None),
            ("payment_received", None),
            ("promise_kept", None),
            ("closed", None),
        ]


async def test_a_broken_promise_sends_a_firmer_notice_and_reopens_the_case(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "AGR-PROMISE-BROKEN"
    async with running_worker(env.client, tmp_path) as harness:
        due = await at_the_call(env, harness, number)
        promised = due + timedelta(days=20)
        await answer(harness, number, TaskOutcome.PROMISE_TO_PAY, promised_date=promised)
        deadline = at_local(promised + timedelta(days=1))
        await sleep_until(env, deadline + timedelta(hours=1))
        lines = harness.bitacora(number)

        assert timeline(harness, number) == [
            *UP_TO_THE_CALL,
            ("task_completed", "collector_call"),
            ("promise_made", None),
            ("promise_broken", None),
            # The firmer notice speaks for the final notice that fell due during the promise.
            ("step_skipped", "final_notice"),
            ("task_opened", "collector_call"),
            ("message_sent", "promise_broken-1"),
        ]
        broken = next(line for line in lines if line.kind == "promise_broken")
        notice = lines[-1]
        assert at_about(broken.at, deadline)
        assert notice.detail["tone"] == "firm"
        assert stage(harness, number) == "negotiation"


def three_instalments(due: date) -> tuple[Instalment, ...]:
    return (
        # Tuesdays, like the due date: no instalment falls on a Sunday.
        Instalment(number=1, due_on=due + timedelta(days=28), amount=Decimal(450_000)),
        Instalment(number=2, due_on=due + timedelta(days=56), amount=Decimal(400_000)),
        Instalment(number=3, due_on=due + timedelta(days=84), amount=Decimal(400_000)),
    )


async def test_a_payment_plan_paid_on_time_completes_and_closes(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "AGR-PLAN-DONE"
    async with running_worker(env.client, tmp_path) as harness:
        due = await at_the_call(env, harness, number)
        plan = three_instalments(due)
        await answer(harness, number, TaskOutcome.PAYMENT_PLAN, instalments=plan)
        status = await harness.handle(f"invoice-{number}").query(InvoiceDunningWorkflow.status)
        assert status.stage == "payment_plan"
        for instalment in plan:
            # Its reminder three days before; paid the day before it falls due.
            paid_at = at_local(instalment.due_on - timedelta(days=1), 12)
            await sleep_until(env, paid_at)
            await pay(harness, number, str(instalment.amount), paid_at)
            await until(env, lambda n=instalment.number: _instalments_paid(harness, number) == n)
        handle = harness.handle(f"invoice-{number}")
        outcome = await handle.result()
        lines = harness.bitacora(number)
        last_run = await handle.fetch_history()

    assert (outcome.stage, outcome.amount_due) == ("paid", Decimal(0))
    # A new run after each instalment keeps a long plan's histories small.
    started = last_run.events[0].workflow_execution_started_event_attributes
    assert started.continued_execution_run_id
    per_instalment = [
        [
            ("message_sent", f"plan1-{k}-reminder"),
            ("payment_received", None),
            # The due-day notice was queued a day ahead; the payment takes it back.
            ("contact_withdrawn", f"plan1-{k}-due"),
            ("instalment_paid", None),
        ]
        for k in (1, 2, 3)
    ]
    assert timeline_of(lines) == [
        *UP_TO_THE_CALL,
        ("task_completed", "collector_call"),
        ("plan_agreed", None),
        *per_instalment[0],
        *per_instalment[1],
        *per_instalment[2],
        ("plan_completed", None),
        ("closed", None),
    ]
    reminders = [line for line in lines if line.kind == "message_sent" and line.step_id and
                 line.step_id.startswith("plan1-")]  # fmt: skip
    for line, instalment in zip(reminders, plan, strict=True):
        planned = contact_at(instalment.due_on - timedelta(days=3))
        assert timedelta(0) <= line.at - planned < timedelta(seconds=5), (line.at, planned)


def at_about(actual: datetime, planned: datetime) -> bool:
    """On time: a timer fires at its moment, and the write lands a few milliseconds later."""
    return timedelta(0) <= actual - planned < timedelta(seconds=5)


def timeline_of(lines: list[Any]) -> list[tuple[str, str | None]]:
    return [(line.kind, line.step_id) for line in lines]


def _instalments_paid(harness: Harness, number: str) -> int:
    return sum(1 for kind, _ in timeline(harness, number) if kind == "instalment_paid")


async def test_a_missed_instalment_breaks_the_plan_and_escalation_resumes(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "AGR-PLAN-BROKEN"
    async with running_worker(env.client, tmp_path) as harness:
        due = await at_the_call(env, harness, number)
        plan = three_instalments(due)
        await answer(harness, number, TaskOutcome.PAYMENT_PLAN, instalments=plan)
        first = plan[0]
        paid_at = at_local(first.due_on - timedelta(days=1), 12)
        await sleep_until(env, paid_at)
        await pay(harness, number, str(first.amount), paid_at)
        # The second is never paid: its reminder, its due-day notice, then one day of grace.
        second = plan[1]
        broken_at = at_local(second.due_on + timedelta(days=1))
        # The firm notice goes at once, or at the next opening if that day is a holiday.
        await sleep_until(env, contact_at(second.due_on + timedelta(days=1)) + timedelta(hours=1))
        lines = harness.bitacora(number)
        status = await harness.handle(f"invoice-{number}").query(InvoiceDunningWorkflow.status)

    assert timeline_of(lines) == [
        *UP_TO_THE_CALL,
        ("task_completed", "collector_call"),
        ("plan_agreed", None),
        ("message_sent", "plan1-1-reminder"),
        ("payment_received", None),
        ("contact_withdrawn", "plan1-1-due"),
        ("instalment_paid", None),
        ("message_sent", "plan1-2-reminder"),
        ("message_sent", "plan1-2-due"),
        ("plan_broken", None),
        ("step_skipped", "final_notice"),
        ("task_opened", "collector_call"),
        ("message_sent", "promise_broken-1"),
    ]
    broken = next(line for line in lines if line.kind == "plan_broken")
    assert at_about(broken.at, broken_at)
    assert broken.detail["missed_instalment"] == "2"
    # Escalation resumes on everything still owed, firmer.
    assert status.amount_due == Decimal(800_000)
    assert lines[-1].detail["tone"] == "firm"
    assert status.stage == "negotiation"


async def test_an_upheld_dispute_credits_the_invoice_and_closes_it(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "AGR-DISPUTE-UPHELD"
    async with running_worker(env.client, tmp_path) as harness:
        today = await today_in_santiago(env)
        due = next_tuesday_after(today, 10)
        await harness.issue(number, due, issued_on=today)
        opened_at = await sleep_until(env, at_local(due + timedelta(days=1), 9))
        handle = harness.handle(f"invoice-{number}")
        await handle.signal(
            InvoiceDunningWorkflow.open_dispute,
            DisputeOpening(
                reason="mercadería no llegó", code=DisputeCode.NOT_RECEIVED, owner="luis"
            ),
        )
        await sleep_until(env, opened_at + timedelta(days=4))
        await handle.signal(
            InvoiceDunningWorkflow.resolve_dispute,
            DisputeResolution(upheld=True, note="guía de despacho sin firma"),
        )
        outcome = await handle.result()
        lines = harness.bitacora(number)

    assert (outcome.stage, outcome.amount_due) == ("credited", Decimal(0))
    assert timeline_of(lines) == [
        ("issued", None),
        ("message_sent", "preventive"),
        ("message_sent", "due_day"),
        ("dispute_opened", None),
        ("dispute_resolved", None),
        ("credit_note_applied", None),
        ("closed", None),
    ]
    opened = lines[3]
    assert opened.detail["code"] == "not_received"
    assert opened.detail["owner"] == "luis"
    assert opened.detail["case_id"] == f"D-{number}-1"
    assert opened.detail["deadline"] == (due + timedelta(days=11)).isoformat()
    assert lines[5].detail["amount"] == "1250000"


async def test_a_rejected_dispute_resumes_where_it_was(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "AGR-DISPUTE-REJECTED"
    async with running_worker(env.client, tmp_path) as harness:
        today = await today_in_santiago(env)
        due = next_tuesday_after(today, 10)
        await harness.issue(number, due, issued_on=today)
        await sleep_until(env, at_local(due + timedelta(days=1), 9))
        handle = harness.handle(f"invoice-{number}")
        await handle.signal(
            InvoiceDunningWorkflow.open_dispute,
            DisputeOpening(reason="monto distinto", code=DisputeCode.WRONG_AMOUNT),
        )
        # Four days of dispute: overdue_3 (due + 3) must wait until due + 7.
        await sleep_until(env, at_local(due + timedelta(days=5), 9))
        await handle.signal(
            InvoiceDunningWorkflow.resolve_dispute,
            DisputeResolution(upheld=False, note="precio según contrato"),
        )
        await sleep_until(env, at_local(due + timedelta(days=8), 9))
        lines = harness.bitacora(number)

    assert timeline_of(lines) == [
        ("issued", None),
        ("message_sent", "preventive"),
        ("message_sent", "due_day"),
        ("dispute_opened", None),
        ("dispute_resolved", None),
        ("message_sent", "overdue_3"),
    ]
    assert lines[3].detail["owner"] == "disputes"
    assert lines[4].detail["paused_days"] == "4"
    planned = contact_at(due + timedelta(days=7))
    assert timedelta(0) <= lines[5].at - planned < timedelta(seconds=5), (lines[5].at, planned)
