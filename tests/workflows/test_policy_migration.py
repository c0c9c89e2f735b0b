"""A running invoice moved from standard v1 to a v2 with an extra reminder, on the time-skipping
server with the real activities: the swap happens at a step boundary, what was sent is not sent
again, the new step goes out on its day, and the ledger row follows the workflow."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from dunning_policies.language import Channel, Remind, Tone
from dunning_policies.policies.standard import POLICY as STANDARD
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
from workflows.messages import PolicyMigration

OVERDUE_7 = Remind(
    id="overdue_7", offset_days=7, channels=(Channel.SMS,), template="overdue", tone=Tone.FIRM
)
V2 = STANDARD.model_copy(
    update={"version": 2, "steps": (*STANDARD.steps[:3], OVERDUE_7, *STANDARD.steps[3:])}
)


async def test_a_migrated_invoice_follows_the_new_version_from_its_next_step(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env, number = time_skipping_env, "MIG-1"
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    # Every day the test looks at is a contact day: the suite's clock may meet a holiday.
    while any(
        contact_at(due + timedelta(days=d)).date() != due + timedelta(days=d)
        for d in (-3, 0, 3, 4, 7, 8)
    ):
        due += timedelta(days=7)
    async with running_worker(env.client, tmp_path) as harness:
        handle = harness.handle(await harness.issue(number, due, issued_on=today))
        migrated_at = await sleep_until(env, at_local(due + timedelta(days=4), 11))
        await handle.signal(
            InvoiceDunningWorkflow.migrate_policy,
            PolicyMigration(policy=V2, requested_by="ops@example.com"),
        )
        # The same version again, and another policy's: refused, nothing recorded.
        await handle.signal(
            InvoiceDunningWorkflow.migrate_policy, PolicyMigration(policy=V2, requested_by="ops")
        )
        other = V2.model_copy(update={"name": "preferred", "version": 9})
        await handle.signal(
            InvoiceDunningWorkflow.migrate_policy, PolicyMigration(policy=other, requested_by="ops")
        )
        await until(env, lambda: policy_version(harness, number) == 2, "ledger row on v2")
        status = await handle.query(InvoiceDunningWorkflow.status)
        assert (status.policy, status.policy_version) == ("standard", 2)
        assert status.next_action.action == "send overdue_7"
        assert status.next_action.at == contact_at(due + timedelta(days=7))

        await sleep_until(env, contact_at(due + timedelta(days=8)) + timedelta(hours=2))
        status = await handle.query(InvoiceDunningWorkflow.status)

    assert [(e.kind, e.step_id, e.channel) for e in status.timeline] == [
        ("issued", None, None),
        ("message_sent", "preventive", "email"),
        ("message_sent", "due_day", "email"),
        ("message_sent", "overdue_3", "whatsapp"),
        ("policy_migrated", None, None),
        ("message_sent", "overdue_7", "sms"),
    ]
    assert status.next_action.action == "send overdue_10", "v1's own steps carry on"
    migration = status.timeline[4]
    assert migration.detail == {
        "policy": "standard",
        "from_version": "1",
        "to_version": "2",
        "requested_by": "ops@example.com",
    }
    assert timedelta(0) <= migration.at - migrated_at < timedelta(seconds=5)
    assert [row[:2] for row in harness.outbox(number)] == [
        ("preventive", "email"),
        ("due_day", "email"),
        ("overdue_3", "whatsapp"),
        ("overdue_7", "sms"),
    ]
    assert [line.kind for line in harness.bitacora(number)][4] == "policy_migrated"


def policy_version(harness, number: str) -> int:
    with unit_of_work(harness.sessions) as session:
        invoice = InvoiceRepository.from_session(session).get(number)
        assert invoice is not None
        return invoice.policy_version
