"""The customer's contact workflow may tell an invoice twice that the same message went out
(a request retried after a worker died meets the outbox's existing row): the invoice records
it once. Found by the soak test (tests/soak), which kills workers mid-run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from dunning_policies.language import Channel
from tests.workflows.harness import (
    contact_at,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
    until,
)
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import ContactOutcome


async def test_the_same_message_told_twice_is_recorded_once(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = time_skipping_env
    async with running_worker(env.client, tmp_path) as harness:
        today = await today_in_santiago(env)
        due = next_tuesday_after(today, 10)
        await harness.issue("F-6601", due, issued_on=today)
        await sleep_until(env, contact_at(due - timedelta(days=3)) + timedelta(hours=1))
        await until(
            env,
            lambda: [line.kind for line in harness.bitacora("F-6601")].count("message_sent") == 1,
            "the preventive reminder in the bitácora",
        )
        handle = harness.handle("invoice-F-6601")
        sent = [
            e
            for e in (await handle.query(InvoiceDunningWorkflow.status)).timeline
            if e.kind == "message_sent"
        ]
        assert [e.step_id for e in sent] == ["preventive"]
        again = ContactOutcome(
            step_id="preventive",
            status="sent",
            channel=Channel(sent[0].channel),
            idempotency_key=sent[0].detail["idempotency_key"],
            provider=sent[0].detail.get("provider"),
            provider_message_id=sent[0].detail.get("provider_message_id"),
        )
        await handle.signal(InvoiceDunningWorkflow.contact_result, again)
        await env.sleep(timedelta(seconds=5))
        timeline = (await handle.query(InvoiceDunningWorkflow.status)).timeline
        assert [e.step_id for e in timeline if e.kind == "message_sent"] == ["preventive"]
        assert [line.kind for line in harness.bitacora("F-6601")].count("message_sent") == 1
