"""A customer's segment moves while their invoices run, on the time-skipping server with the real
activities: a running invoice takes the new segment's policy at its next step boundary (what was
sent is not sent again; the new policy's reminders already past are skipped, a collector's task
already due opens at once, the rest follow on their days; a change waits while a message is
queued for the customer), and the review's signalling leaves closed invoices alone."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from activities.risk import RiskActivities, SegmentMove
from dunning_policies.registry import get_policy
from ledger.db import unit_of_work
from ledger.repositories.invoices import InvoiceRepository
from tests.workflows.harness import (
    at_local,
    contact_at,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
    until,
)
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import SegmentChange

HIGH_RISK = get_policy("high_risk")


async def test_a_running_invoice_follows_the_new_segments_policy_from_its_next_step(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "SEG-1"
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    async with running_worker(env.client, tmp_path) as harness:
        handle = harness.handle(await harness.issue(number, due, issued_on=today))
        changed_at = await sleep_until(env, at_local(due + timedelta(days=1), 12))
        await handle.signal(
            InvoiceDunningWorkflow.change_segment,
            SegmentChange(segment="high_risk", policy=HIGH_RISK, reason="risk score 78"),
        )
        await until(
            env,
            lambda: "segment_changed" in [line.kind for line in harness.bitacora(number)],
            "the change recorded",
        )
        status = await handle.query(InvoiceDunningWorkflow.status)
        assert (status.segment, status.policy) == ("high_risk", "high_risk")
        assert status.next_action.action == "send overdue_4"
        assert status.next_action.at == contact_at(due + timedelta(days=4))

        await sleep_until(env, contact_at(due + timedelta(days=4)) + timedelta(hours=2))
        status = await handle.query(InvoiceDunningWorkflow.status)

    assert [(e.kind, e.step_id) for e in status.timeline] == [
        ("issued", None),
        ("message_sent", "preventive"),
        ("message_sent", "due_day"),
        ("segment_changed", None),
        # The new policy's reminders already past are not sent out of the blue.
        ("step_skipped", "preventive_7"),
        ("step_skipped", "preventive_2"),
        ("step_skipped", "overdue_1"),
        ("message_sent", "overdue_4"),
    ]
    change = next(e for e in status.timeline if e.kind == "segment_changed")
    assert change.detail == {
        "from_segment": "standard",
        "to_segment": "high_risk",
        "from_policy": "standard",
        "to_policy": "high_risk",
        "from_version": "1",
        "to_version": "1",
        "reason": "risk score 78",
    }
    assert timedelta(0) <= change.at - changed_at < timedelta(seconds=5)
    assert [row[0] for row in harness.outbox(number)] == [
        "preventive",
        "due_day",
        "overdue_4",
    ], "due_day, taken under the old policy, is not sent again"
    assert "segment_changed" in [line.kind for line in harness.bitacora(number)]
    with unit_of_work(harness.sessions) as session:
        row = InvoiceRepository.from_session(session).get(number)
        assert row is not None
        assert (row.segment, row.policy_name) == ("high_risk", "high_risk"), "the ledger follows"


async def test_the_review_signals_running_invoices_and_leaves_closed_ones_alone(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env = time_skipping_env
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    async with running_worker(env.client, tmp_path) as harness:
        running = harness.handle(await harness.issue("SEG-RUN", due, issued_on=today))
        paid = harness.handle(await harness.issue("SEG-PAID", due, issued_on=today))
        gone = harness.handle(await harness.issue("SEG-GONE", due, issued_on=today))
        await harness.pay("SEG-PAID", "1250000", at_local(today, 12))
        await paid.result()
        await gone.terminate("lost in a reset")  # still open in the ledger, not running
        activities = RiskActivities(harness.sessions, env.client)

        report = await activities.signal_segment_change(
            SegmentMove(
                customer_id=harness.customer_id,
                from_segment="standard",
                to_segment="preferred",
                score=4,
            )
        )
        await until(
            env,
            lambda: "segment_changed" in [line.kind for line in harness.bitacora("SEG-RUN")],
            "the running invoice records the change",
        )
        status = await running.query(InvoiceDunningWorkflow.status)
        paid_status = await paid.query(InvoiceDunningWorkflow.status)

    assert (report.signalled, report.not_running, report.skipped_reason) == (1, 1, None)
    assert (status.segment, status.policy) == ("preferred", "preferred")
    assert status.next_action.action == "send preventive"
    assert status.next_action.at == contact_at(due - timedelta(days=5))
    assert paid_status.policy == "standard"
    assert "segment_changed" not in [e.kind for e in paid_status.timeline]


async def test_a_change_waits_for_the_queued_message_and_opens_a_collectors_task_already_due(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "SEG-TASK"
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    async with running_worker(env.client, tmp_path) as harness:
        handle = harness.handle(await harness.issue(number, due, issued_on=today))
        # overdue_10 is queued with the customer's contact workflow a day ahead of its moment
        # (later if a holiday moves it): wait, an hour at a time, until the invoice's next
        # action is the step after it.
        await sleep_until(env, at_local(due + timedelta(days=8), 12))
        for _ in range(24 * 7):
            status = await handle.query(InvoiceDunningWorkflow.status)
            if status.next_action.action != "send overdue_10":
                break
            await env.sleep(timedelta(hours=1))
        assert status.next_action.action == "open task collector_call", status.next_action
        assert "overdue_10" not in [row[0] for row in harness.outbox(number)]
        await handle.signal(
            InvoiceDunningWorkflow.change_segment,
            SegmentChange(segment="high_risk", policy=HIGH_RISK, reason="risk score 70"),
        )
        await env.sleep(timedelta(minutes=5))
        waiting = await handle.query(InvoiceDunningWorkflow.status)
        assert waiting.policy == "standard", "not while overdue_10 waits in the queue"

        for _ in range(6 * 24 * 3):  # ten minutes at a time, for up to three days
            status = await handle.query(InvoiceDunningWorkflow.status)
            if status.policy == "high_risk":
                break
            await env.sleep(timedelta(minutes=10))

    kinds = [(e.kind, e.step_id) for e in status.timeline]
    assert kinds.index(("message_sent", "overdue_10")) < kinds.index(("segment_changed", None))
    assert status.policy == "high_risk"
    assert status.open_task is not None and status.open_task.step_id == "collector_call"
    assert ("step_skipped", "collector_call") not in kinds
    assert ("step_skipped", "overdue_4") in kinds
