"""A collector's (and the portal's) actions on a case, through ``api.case_actions``: each an
Update on the invoice's workflow, on the time-skipping server with the real activities writing
a SQLite ledger. A refusal arrives as ``InvalidRequest`` with the validator's words.

Most scenarios start at the standard policy's collector task (due + 15 days, 10:00 Santiago),
an hour after it opened.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from api import case_actions
from api.errors import InvalidRequest
from dunning_policies.state import CallResult, DisputeCode
from ledger.db import unit_of_work
from ledger.models import Task, User
from ledger.repositories.handoffs import HandoffRepository
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.promises import PromiseRepository
from ledger.repositories.tasks import TaskRepository
from tests.workflows.harness import (
    Harness,
    at_local,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
    until,
)
from tests.workflows.test_contact_rules import (
    CALLING,
    NEW_YORK,
    consumer,
    policy_for_issuance,
)
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import DisputeOpening


async def at_negotiation(env: WorkflowEnvironment, harness: Harness, number: str) -> date:
    """Issue ``number`` due on a Tuesday ≥ 10 days out; move to due + 15 days, 11:00."""
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    await harness.issue(number, due, issued_on=today)
    await sleep_until(env, at_local(due + timedelta(days=15), 11))
    await until(env, lambda: task_of(harness, number) is not None, "the task in the ledger")
    return due


def task_id(number: str) -> str:
    return f"T-{number}-collector_call-1"


def task_of(harness: Harness, number: str) -> Task | None:
    with unit_of_work(harness.sessions) as session:
        task = TaskRepository.from_session(session).get(task_id(number))
        if task is not None:
            session.expunge(task)
        return task


def stage(harness: Harness, number: str) -> str:
    with unit_of_work(harness.sessions) as session:
        invoice = InvoiceRepository.from_session(session).get(number)
        assert invoice is not None
        return invoice.stage


def kinds(harness: Harness, number: str) -> list[str]:
    return [line.kind for line in harness.bitacora(number)]


async def refused(action: object) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as error:
        await action  # type: ignore[misc]
    return error.value


async def test_a_call_is_logged_in_the_timeline_and_the_bitacora(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "CASE-CALL"
    async with running_worker(env.client, tmp_path) as harness:
        await at_negotiation(env, harness, number)
        client, sessions = harness.client, harness.sessions

        answer = await case_actions.record_call(
            client,
            sessions,
            number,
            outcome=CallResult.REACHED,
            note="pagará el viernes",
            collector="ana",
        )
        await case_actions.record_call(
            client, sessions, number, outcome=CallResult.WRONG_NUMBER, note=None, collector="luis"
        )
        await until(env, lambda: kinds(harness, number).count("address_invalid") == 2)
        status = await harness.handle(f"invoice-{number}").query(InvoiceDunningWorkflow.status)
        lines = harness.bitacora(number)

    # The call changes no plan: the final notice (due + 18) is still what comes next.
    assert answer.action == "send final_notice"
    calls = [e for e in status.timeline if e.kind == "call_logged"]
    assert [(e.status, e.detail["collector"]) for e in calls] == [
        ("reached", "ana"),
        ("wrong_number", "luis"),
    ]
    reached = next(line for line in lines if line.kind == "call_logged")
    assert reached.detail["outcome"] == "reached"
    assert reached.detail["note"] == "pagará el viernes"
    assert reached.at == calls[0].at
    assert kinds(harness, number)[-4:] == [
        "call_logged",
        "call_logged",
        "address_invalid",
        "address_invalid",
    ]
    assert {line.channel for line in lines if line.kind == "address_invalid"} == {"voice", "sms"}
    assert stage(harness, number) == "negotiation"


async def test_escalation_hands_off_now_and_a_second_one_is_refused(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "CASE-ESCALATE"
    async with running_worker(env.client, tmp_path) as harness:
        await at_negotiation(env, harness, number)
        client, sessions = harness.client, harness.sessions

        answer = await case_actions.escalate_to_handoff(
            client, sessions, number, reason="no responde hace 15 días", collector="ana"
        )
        await until(env, lambda: stage(harness, number) == "handoff", "stage handoff")
        again = await refused(
            case_actions.escalate_to_handoff(
                client, sessions, number, reason="otra vez", collector="ana"
            )
        )
        with unit_of_work(sessions) as session:
            handoffs = [
                (h.invoice_number, h.agency, h.amount_due_minor)
                for h in HandoffRepository.from_session(session).list_handoffs()
            ]
        task = task_of(harness, number)
        lines = harness.bitacora(number)

    assert (answer.action, answer.detail) == ("wait", "with the collection agency")
    assert handoffs == [(number, "Agencia de Cobranza Extrajudicial", 1_250_000)]
    assert task is not None and (task.status, task.outcome) == ("completed", "escalated")
    handed = lines[-1]
    assert handed.kind == "handed_off"
    assert handed.detail["escalated_by"] == "ana"
    assert handed.detail["skipped_steps"] == "final_notice"
    assert again.field == "invoice"
    assert str(again) == f"invoice: invoice {number} is already with the collection agency"


async def test_a_snoozed_task_leaves_the_inbox_but_not_past_its_sla(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "CASE-SNOOZE"
    async with running_worker(env.client, tmp_path) as harness:
        due = await at_negotiation(env, harness, number)
        client, sessions = harness.client, harness.sessions
        wake = at_local(due + timedelta(days=17), 9)
        sla = at_local(due + timedelta(days=20), 10)  # five days after the task opened

        beyond = await refused(
            case_actions.snooze_task(
                client, sessions, task_id(number), until=sla + timedelta(hours=1), collector="ana"
            )
        )
        past = await refused(
            case_actions.snooze_task(
                client, sessions, task_id(number), until=wake - timedelta(days=3), collector="ana"
            )
        )
        unknown = await refused(
            case_actions.snooze_task(client, sessions, "T-nope", until=wake, collector="ana")
        )
        await case_actions.snooze_task(
            client, sessions, task_id(number), until=wake, collector="ana", note="de viaje"
        )

        def snoozed() -> bool:
            task = task_of(harness, number)
            return task is not None and task.snoozed_until is not None

        await until(env, snoozed, "tasks.snoozed_until")
        task = task_of(harness, number)
        lines = harness.bitacora(number)

    assert task is not None and task.snoozed_until == wake
    assert task.status == "open"
    snooze = lines[-1]
    assert snooze.kind == "task_snoozed"
    assert (snooze.detail["collector"], snooze.detail["note"]) == ("ana", "de viaje")
    assert beyond.field == "until"
    assert str(beyond) == (
        "until: the task's SLA ends at "
        f"{sla:%Y-%m-%d} 10:00 (America/Santiago); snooze it no later than that"
    )
    assert past.field == "until" and "is in the past" in str(past)
    assert unknown.field == "task_id" and "unknown task 'T-nope'" in str(unknown)


async def test_a_dispute_by_update_pauses_the_invoice_and_a_second_is_refused(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "CASE-DISPUTE"
    async with running_worker(env.client, tmp_path) as harness:
        today = await today_in_santiago(env)
        due = next_tuesday_after(today, 10)
        await harness.issue(number, due, issued_on=today)
        await sleep_until(env, at_local(due + timedelta(days=1), 9))
        client, sessions = harness.client, harness.sessions

        answer = await case_actions.open_dispute(
            client,
            sessions,
            number,
            code=DisputeCode.NOT_RECEIVED,
            reason="mercadería no llegó",
            source="portal",
        )
        await until(env, lambda: stage(harness, number) == "disputed", "stage disputed")
        second = await refused(
            case_actions.open_dispute(
                client, sessions, number, code=DisputeCode.OTHER, reason="otra", source="portal"
            )
        )
        # The Update itself, as any client sees it.
        with pytest.raises(WorkflowUpdateFailedError) as raw:
            await harness.handle(f"invoice-{number}").execute_update(
                InvoiceDunningWorkflow.open_dispute_case, DisputeOpening(reason="otra")
            )
        opened = [line for line in harness.bitacora(number) if line.kind == "dispute_opened"][-1]
        # With a message queued for the customer (the calendar decides: a holiday can move the
        # due-day notice into this morning), the dispute first withdraws it.
        for _ in range(30):
            status = await harness.handle(f"invoice-{number}").query(InvoiceDunningWorkflow.status)
            if status.next_action.action != "withdraw queued message":
                break
            await env.sleep(timedelta(seconds=1))

    assert (answer.action, answer.detail) in {
        ("dispute deadline", f"D-{number}-1"),
        ("withdraw queued message", "dispute open"),
    }
    assert (status.next_action.action, status.next_action.detail) == (
        "dispute deadline",
        f"D-{number}-1",
    )
    assert opened.kind == "dispute_opened"
    assert (opened.detail["source"], opened.detail["code"]) == ("portal", "not_received")
    expected = f"invoice {number} is already disputed (case D-{number}-1): mercadería no llegó"
    assert (second.field, str(second)) == ("invoice", f"invoice: {expected}")
    cause = raw.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.message) == ("InvalidCaseAction", expected)


async def test_a_payment_claim_waits_for_the_money_and_a_payment_closes_the_invoice(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "CASE-CLAIM"
    async with running_worker(env.client, tmp_path) as harness:
        due = await at_negotiation(env, harness, number)
        client, sessions = harness.client, harness.sessions
        today = due + timedelta(days=15)

        future = await refused(
            case_actions.report_payment_claim(
                client,
                sessions,
                number,
                reference="TRF-1",
                paid_on=today + timedelta(days=1),
                amount=None,
                source="portal",
            )
        )
        answer = await case_actions.report_payment_claim(
            client,
            sessions,
            number,
            reference="TRF-20931",
            paid_on=today - timedelta(days=1),
            amount=None,
            source="portal",
        )
        await until(env, lambda: stage(harness, number) == "promise", "stage promise")
        # Two days on, no money yet: the invoice still waits, and nobody is contacted.
        await sleep_until(env, at_local(today + timedelta(days=2), 12))
        waited = kinds(harness, number)
        await harness.pay(number, "1250000", at_local(today + timedelta(days=2), 12))
        outcome = await harness.handle(f"invoice-{number}").result()
        closed = await refused(
            case_actions.report_payment_claim(
                client,
                sessions,
                number,
                reference="TRF-2",
                paid_on=today,
                amount=None,
                source="portal",
            )
        )
        with unit_of_work(sessions) as session:
            promises = [
                (p.kind, p.source, p.status)
                for p in PromiseRepository.from_session(session).list_for_invoice(number)
            ]
        lines = harness.bitacora(number)

    assert future.field == "paid_on" and "is in the future" in str(future)
    # Checked on the policy's last day for the money (3 days), after a day of grace.
    assert answer.action == "check promise"
    assert answer.at == at_local(today + timedelta(days=4), 10)
    claimed = next(line for line in lines if line.kind == "payment_claimed")
    assert claimed.detail["reference"] == "TRF-20931"
    assert claimed.detail["paid_on"] == (today - timedelta(days=1)).isoformat()
    assert waited[-4:] == ["task_opened", "task_closed", "payment_claimed", "promise_made"]
    assert (outcome.stage, outcome.amount_due) == ("paid", Decimal(0))
    assert kinds(harness, number)[-3:] == ["payment_received", "promise_kept", "closed"]
    assert promises == [("payment_claim", "portal", "kept")]
    assert (closed.field, str(closed)) == ("invoice", f"invoice: {number} is closed (paid)")


async def test_an_unknown_invoice_and_an_ended_workflow_are_refused_by_name(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "CASE-ENDED"
    async with running_worker(env.client, tmp_path) as harness:
        await at_negotiation(env, harness, number)
        client, sessions = harness.client, harness.sessions
        unknown = await refused(
            case_actions.record_call(
                client, sessions, "NOPE-1", outcome=CallResult.REACHED, note=None, collector="a"
            )
        )
        # The workflow ended without the ledger hearing of it (terminated by an operator).
        await harness.handle(f"invoice-{number}").terminate(reason="test")
        ended = await refused(
            case_actions.record_call(
                client, sessions, number, outcome=CallResult.REACHED, note=None, collector="a"
            )
        )
        promise = await refused(
            case_actions.promise_to_pay(
                client,
                sessions,
                number,
                promised_date=await today_in_santiago(env),
                amount="0",
                source="collector",
            )
        )

    assert (unknown.field, str(unknown)) == ("invoice", "invoice: unknown invoice 'NOPE-1'")
    assert (ended.field, str(ended)) == (
        "invoice",
        f"invoice: {number} is closed: its workflow has ended",
    )
    assert promise.field == "amount"


async def test_a_refused_promise_and_plan_arrive_with_the_validators_words(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "CASE-PROMISE"
    async with running_worker(env.client, tmp_path) as harness:
        due = await at_negotiation(env, harness, number)
        client, sessions = harness.client, harness.sessions
        today = due + timedelta(days=15)

        too_late = await refused(
            case_actions.promise_to_pay(
                client,
                sessions,
                number,
                promised_date=today + timedelta(days=400),
                amount=None,
                source="collector",
            )
        )
        short = await refused(
            case_actions.agree_payment_plan(
                client,
                sessions,
                number,
                instalments=[
                    (today + timedelta(days=7), "100"),
                    (today + timedelta(days=14), "100"),
                ],
                source="collector",
            )
        )
        agreed = await case_actions.agree_payment_plan(
            client,
            sessions,
            number,
            instalments=[
                (today + timedelta(days=7), "625000"),
                (today + timedelta(days=14), "625000"),
            ],
            source="collector",
        )
        await until(env, lambda: stage(harness, number) == "payment_plan", "stage payment_plan")

    assert too_late.field == "promised_date" and "must be between" in str(too_late)
    assert short.field == "instalments"
    assert "they add up to 200, but 1250000 CLP is due" in str(short)
    assert (agreed.plan_id, agreed.next_action.action) == ("plan1", "send plan1-1-reminder")


async def test_a_reached_call_pauses_calls_to_a_us_consumer_for_seven_days(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    # A logged call reaches the contact rules as a task's answer does (test_contact_rules.py).
    env, number = time_skipping_env, "US-CALL-LOGGED"
    today = (await env.get_current_time()).astimezone(NEW_YORK).date()
    due = today + timedelta(days=2)
    async with running_worker(env.client, tmp_path) as harness:
        customer = consumer(
            harness,
            name="John Doe",
            country="US",
            timezone="America/New_York",
            locale="en_US",
            phone="+12125550123",
            whatsapp=None,
        )
        with policy_for_issuance(CALLING):
            await harness.issue(
                number, due, issued_on=today, currency="USD", amount="950", customer=customer
            )
        talked_at = datetime.combine(due + timedelta(days=4), time(11), tzinfo=NEW_YORK)
        await sleep_until(env, talked_at)
        await case_actions.record_call(
            harness.client,
            harness.sessions,
            number,
            outcome=CallResult.REACHED,
            note="will pay next month",
            collector="ana",
        )
        await sleep_until(
            env, datetime.combine(due + timedelta(days=13), time(22), tzinfo=NEW_YORK)
        )
        await until(env, lambda: True)
        calls = [line for line in harness.bitacora(number) if line.kind == "message_sent"]

    after = [line for line in calls if line.at > talked_at]
    assert len(calls) - len(after) == 3
    assert after and min(line.at for line in after) >= talked_at + timedelta(days=7)
    assert "1006.14(b)(2)(i)(B)" in str(after[0].detail.get("moved_by")), after[0].detail


async def test_collectors_claim_assign_and_release_tasks_in_the_ledger(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "CASE-CLAIM-TASK"
    async with running_worker(env.client, tmp_path) as harness:
        await at_negotiation(env, harness, number)
        sessions, task = harness.sessions, task_id(number)
        with unit_of_work(sessions) as session:
            session.add(
                User(
                    id="u-luis",
                    email="luis@example.com",
                    name="Luis",
                    role="collector",
                    password_hash="x",
                    totp_secret="x",
                )
            )
        history = len((await harness.handle(f"invoice-{number}").fetch_history()).events)

        claimed = await case_actions.claim_task(sessions, task, "u-ana")
        again = await case_actions.claim_task(sessions, task, "u-ana")
        taken = await refused(case_actions.claim_task(sessions, task, "u-luis"))
        unknown_user = await refused(case_actions.assign_task(sessions, task, "u-nobody"))
        assigned = await case_actions.assign_task(sessions, task, "u-luis")
        released = await case_actions.release_task(sessions, task)
        unknown_task = await refused(case_actions.claim_task(sessions, "T-nope", "u-ana"))
        events = (await harness.handle(f"invoice-{number}").fetch_history()).events

    assert (claimed.assignee, claimed.invoice_number) == ("u-ana", number)
    assert again == claimed
    assert taken.field == "task_id" and "is being worked by u-ana since" in str(taken)
    assert (unknown_user.field, str(unknown_user)) == (
        "user_id",
        "user_id: no active user 'u-nobody'",
    )
    assert assigned.assignee == "u-luis"
    assert (released.assignee, released.claimed_at) == (None, None)
    assert unknown_task.field == "task_id"
    # Picking up work is not a dunning fact: the workflow heard nothing.
    assert len(events) == history


async def test_a_payment_claim_supersedes_a_running_promise_in_the_ledger(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "CASE-CLAIM-AFTER-PROMISE"
    async with running_worker(env.client, tmp_path) as harness:
        due = await at_negotiation(env, harness, number)
        client, sessions = harness.client, harness.sessions
        today = due + timedelta(days=15)
        await case_actions.promise_to_pay(
            client,
            sessions,
            number,
            promised_date=today + timedelta(days=10),
            amount=None,
            source="portal",
        )
        await case_actions.report_payment_claim(
            client,
            sessions,
            number,
            reference="TRF-77",
            paid_on=today,
            amount="1250000",
            source="portal",
        )

        def promises() -> list[tuple[str, str]]:
            with unit_of_work(sessions) as session:
                rows = PromiseRepository.from_session(session).list_for_invoice(number)
                return [(p.kind, p.status) for p in rows]

        await until(env, lambda: len(promises()) == 2, "both promise rows")
        rows = promises()

    assert rows == [("promise", "superseded"), ("payment_claim", "open")]


async def test_a_promise_from_the_portal_closes_the_open_task(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    """The debtor answered the collector's task themselves: it leaves the inbox."""
    env = time_skipping_env
    async with running_worker(env.client, tmp_path) as harness:
        due = await at_negotiation(env, harness, "F-8801")
        await case_actions.promise_to_pay(
            harness.client,
            harness.sessions,
            "F-8801",
            promised_date=due + timedelta(days=20),
            amount=None,
            source="portal",
        )
        await until(
            env,
            lambda: (task := task_of(harness, "F-8801")) is not None and task.status != "open",
            "the task closed in the ledger",
        )
        assert stage(harness, "F-8801") == "promise"
        assert "task_closed" in kinds(harness, "F-8801")
