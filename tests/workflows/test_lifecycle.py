"""The standard policy end to end on Temporal's time-skipping server, with the real activities
writing a SQLite ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from temporalio.testing import WorkflowEnvironment

from ledger.db import unit_of_work
from ledger.repositories.handoffs import HandoffRepository
from ledger.repositories.interactions import InteractionRepository
from ledger.repositories.outbox import OutboxRepository
from ledger.repositories.tasks import TaskRepository
from tests.workflows.harness import contact_at, running_worker
from workflows.invoice import InvoiceDunningWorkflow

SANTIAGO = ZoneInfo("America/Santiago")


async def today_in_santiago(env: WorkflowEnvironment) -> date:
    return (await env.get_current_time()).astimezone(SANTIAGO).date()


def next_tuesday_after(day: date, at_least_days: int) -> date:
    candidate = day + timedelta(days=at_least_days)
    return candidate + timedelta(days=(1 - candidate.weekday()) % 7)


def at_local(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SANTIAGO)


async def test_an_unpaid_invoice_follows_the_standard_policy_to_the_agency(
    time_skipping_env, tmp_path
):
    env = time_skipping_env
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    async with running_worker(env.client, tmp_path) as harness:
        workflow_id = await harness.issue("F-1001", due, issued_on=today)
        await env.sleep(timedelta(days=(due - today).days + 25))
        status = await env.client.get_workflow_handle(workflow_id).query(
            InvoiceDunningWorkflow.status
        )

        with unit_of_work(harness.sessions) as session:
            outbox = [
                (m.step_id, m.channel, m.template, _minute(m.scheduled_local), m.status)
                for m in OutboxRepository.from_session(session).list_messages(
                    invoice_number="F-1001"
                )
            ]
            tasks = TaskRepository.from_session(session).list_tasks()
            handoffs = HandoffRepository.from_session(session).list_handoffs()
            bitacora = [
                i.kind
                for i in InteractionRepository.from_session(session).list_for_invoice("F-1001")
            ]

    assert outbox == [
        ("preventive", "email", "before_due", contact_at(due - timedelta(days=3)), "sent"),
        ("due_day", "email", "due_today", contact_at(due), "sent"),
        ("overdue_3", "whatsapp", "overdue", contact_at(due + timedelta(days=3)), "sent"),
        ("overdue_10", "sms", "overdue", contact_at(due + timedelta(days=10)), "sent"),
        ("final_notice", "email", "final_notice", contact_at(due + timedelta(days=18)), "sent"),
    ]
    assert [(t.id, t.queue, t.status) for t in tasks] == [
        ("T-F-1001-collector_call-1", "standard", "expired")
    ]
    assert _on_time(tasks[0].created_at, at_local(due + timedelta(days=15)))
    # The SLA is a span of time (5 × 24 h), so across a change of clocks it lands an hour off
    # the local hour the task opened at.
    sla_due_at = at_local(due + timedelta(days=15)).astimezone(UTC) + timedelta(days=5)
    assert _on_time(tasks[0].sla_due_at, sla_due_at)
    assert [(h.invoice_number, h.amount_due_minor) for h in handoffs] == [("F-1001", 1_250_000)]
    assert _on_time(handoffs[0].created_at, sla_due_at)
    assert status.stage == "handoff"
    assert [e.kind for e in status.timeline] == [
        "issued",
        "message_sent",
        "message_sent",
        "message_sent",
        "message_sent",
        "task_opened",
        "message_sent",
        "task_expired",
        "handed_off",
    ]
    assert bitacora == [e.kind for e in status.timeline]
    # Each message went out at the planned instant, in the customer's time zone.
    sent_at = [e.at for e in status.timeline if e.kind == "message_sent"]
    for actual, planned in zip(sent_at, [row[3] for row in outbox], strict=True):
        assert _on_time(actual, planned)


def _on_time(actual: datetime, planned: datetime) -> bool:
    """A durable timer fires at its instant, or a few milliseconds after it."""
    return timedelta(0) <= actual - planned < timedelta(seconds=5)


def _minute(local_iso: str) -> datetime:
    """The local send time to the minute: a timer fires a few milliseconds after its instant."""
    return datetime.fromisoformat(local_iso).replace(second=0, microsecond=0)
