"""An invoice's later step replaces its message queued with the customer's contact workflow.
The invoice records the replaced step only on the contact workflow's word: "replaced" when it
was dropped unsent, "sent" when it was already on its way out. Before, the invoice recorded it
skipped at once, and a message that was being sent at that moment went out all the same (found
by the soak test, which kills workers mid-run).

The invoice here is a stand-in that records the ``contact_result`` signals it is told."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.channels.base import ChannelSender, DeliveryRejected, OutboundMessage
from activities.contracts import (
    CONTACT_REQUESTED_SIGNAL,
    CUSTOMER_CONTACT_WORKFLOW,
    CustomerContactStart,
    contact_workflow_id,
)
from dunning_policies.contact import ContactRequest
from dunning_policies.language import Channel, Tone
from ledger.db import unit_of_work
from ledger.repositories.customers import CustomerRepository
from ledger.repositories.interactions import InteractionRepository
from tests.workflows.harness import (
    Harness,
    RecordingSender,
    recording_senders,
    running_worker,
    terminate_when_idle,
)
from workflows.customer_contact import CustomerContactWorkflow
from workflows.messages import ContactOutcome, ContactWithdrawal


@workflow.defn(name="ContactResultsRecorder")
class ContactResultsRecorder:
    """Stands in for an invoice: keeps every contact result it is told."""

    def __init__(self) -> None:
        self._results: list[ContactOutcome] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal
    def contact_result(self, outcome: ContactOutcome) -> None:
        self._results.append(outcome)

    @workflow.query
    def results(self) -> list[ContactOutcome]:
        return self._results


@dataclass
class HeldSender(RecordingSender):
    """Holds the first message until the test lets it go; rejects it instead if told to."""

    blocking: bool = True
    reject_first: bool = False
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def send(self, message: OutboundMessage) -> str:
        if not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(timeout=60), "the test never let the message go"
            if self.reject_first:
                raise DeliveryRejected("bounced", "mailbox full")
        return super().send(message)


@dataclass
class Scene:
    """A worker with the product's workflows and activities, a stand-in invoice on a worker of
    its own, and its customer in the ledger."""

    env: WorkflowEnvironment
    harness: Harness
    invoice_id: str
    customer_id: str

    @property
    def number(self) -> str:
        return self.invoice_id.removeprefix("invoice-")

    async def ask(self, step_id: str, wait: timedelta = timedelta(0)) -> None:
        """As the invoice's ``request_contact`` activity does: signal-with-start."""
        now = await self.env.get_current_time()
        request = ContactRequest(
            workflow_id=self.invoice_id,
            invoice_number=self.number,
            step_id=step_id,
            channels=(Channel.EMAIL, Channel.SMS),
            template="overdue",
            tone=Tone.NEUTRAL,
            amount_due=Decimal(450_000),
            original_amount=Decimal(450_000),
            currency="CLP",
            due_on=now.date(),
            not_before=now + wait,
        )
        await self.env.client.start_workflow(
            CUSTOMER_CONTACT_WORKFLOW,
            CustomerContactStart(
                customer_id=self.customer_id, timezone="America/Santiago", rules=None
            ),
            id=contact_workflow_id(self.customer_id),
            task_queue=self.harness.settings.task_queue,
            start_signal=CONTACT_REQUESTED_SIGNAL,
            start_signal_args=[request],
        )

    async def queued_until(self, steps: list[str]) -> None:
        """Wait until the contact workflow has handled what was signalled: its queue holds
        exactly ``steps`` of this invoice."""
        handle = self.env.client.get_workflow_handle_for(
            CustomerContactWorkflow.run, contact_workflow_id(self.customer_id)
        )
        for _ in range(400):
            state = await handle.query(CustomerContactWorkflow.status)
            if [r.step_id for r in state.pending] == steps:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the contact queue never held {steps}")

    async def told(self, count: int) -> list[tuple[str, str]]:
        handle = self.env.client.get_workflow_handle_for(
            ContactResultsRecorder.run, self.invoice_id
        )
        for _ in range(400):
            results = await handle.query(ContactResultsRecorder.results)
            if len(results) >= count:
                return [(r.step_id, r.status) for r in results]
            await asyncio.sleep(0.05)
        results = await handle.query(ContactResultsRecorder.results)
        raise AssertionError(f"told {[(r.step_id, r.status) for r in results]}, wanted {count}")


def _customer(harness: Harness) -> str:
    customer_id = f"C-{uuid.uuid4().hex[:8]}"
    with unit_of_work(harness.sessions) as session:
        CustomerRepository.from_session(session).upsert(
            id=customer_id,
            name="Ferretería Los Andes SpA",
            email="pagos@losandes.cl",
            phone="+56912345678",
            whatsapp=None,
            country="CL",
            timezone="America/Santiago",
            locale="es_CL",
            segment="standard",
            debt_type="business",
        )
    harness.customers.add(customer_id)
    return customer_id


@asynccontextmanager
async def scene(
    env: WorkflowEnvironment, tmp_path: Path, senders: dict[Channel, ChannelSender]
) -> AsyncIterator[Scene]:
    async with running_worker(env.client, tmp_path, senders) as harness:
        stand_in_queue = harness.settings.task_queue + "-stand-in"
        async with Worker(
            env.client,
            task_queue=stand_in_queue,
            workflows=[ContactResultsRecorder],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            invoice_id = f"invoice-F-{uuid.uuid4().hex[:6]}"
            stand_in = await env.client.start_workflow(
                ContactResultsRecorder.run, id=invoice_id, task_queue=stand_in_queue
            )
            try:
                yield Scene(env, harness, invoice_id, _customer(harness))
            finally:
                # Left running without its worker, a signal to it would stall the session's
                # time-skipping server (see harness.terminate_when_idle).
                await terminate_when_idle(stand_in)


async def _wait_until(check: threading.Event) -> None:
    for _ in range(400):
        if check.is_set():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the send never started")


async def test_a_request_replaced_in_the_queue_is_told_replaced(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    senders = recording_senders()
    async with scene(time_skipping_env, tmp_path, senders) as it:
        # Queued for tomorrow, then a later step takes its place before it went out.
        await it.ask("overdue_3", timedelta(days=1))
        await it.ask("overdue_10")
        assert sorted(await it.told(2)) == [("overdue_10", "sent"), ("overdue_3", "replaced")]
        email = senders[Channel.EMAIL]
        assert isinstance(email, RecordingSender)
        assert len(email.sent) == 1
        assert it.harness.outbox(it.number) == [("overdue_10", "email", "overdue", "sent")]


async def test_a_request_replaced_while_it_is_being_sent_is_told_sent(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    held = HeldSender()
    async with scene(
        time_skipping_env, tmp_path, {**recording_senders(), Channel.EMAIL: held}
    ) as it:
        await it.ask("overdue_3")
        await _wait_until(held.entered)
        # The invoice's next step replaces it while the provider has it.
        await it.ask("overdue_10")
        await it.queued_until(["overdue_10"])
        held.release.set()
        assert await it.told(2) == [("overdue_3", "sent"), ("overdue_10", "sent")]
        assert [m.idempotency_key.split(":")[1] for m in held.sent] == ["overdue_3", "overdue_10"]


async def test_a_replaced_request_whose_send_fails_is_not_tried_again(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    held = HeldSender(reject_first=True)
    senders = {**recording_senders(), Channel.EMAIL: held}
    async with scene(time_skipping_env, tmp_path, senders) as it:
        await it.ask("overdue_3")
        await _wait_until(held.entered)
        # Withdrawn while the provider has it, by an invoice that waits for the answer.
        await it.env.client.get_workflow_handle(contact_workflow_id(it.customer_id)).signal(
            CustomerContactWorkflow.contact_withdrawn,
            ContactWithdrawal(workflow_id=it.invoice_id, reason="replaced", answer=True),
        )
        await it.queued_until([])
        held.release.set()
        await it.told(1)
        # Nothing more comes: no other channel is tried (a second of wall time to show it).
        await asyncio.sleep(1)
        assert await it.told(1) == [("overdue_3", "replaced")]
        sms = senders[Channel.SMS]
        assert isinstance(sms, RecordingSender)
        assert sms.sent == [], "the next channel was tried for a message nobody wants"
        assert held.sent == []


async def test_a_message_whose_invoice_closed_meanwhile_is_still_in_the_bitacora(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """Paid while its message was with the provider: the invoice closed before it could hear
    that the message went out. The debtor was contacted, so the bitácora says so."""
    held = HeldSender()
    async with scene(
        time_skipping_env, tmp_path, {**recording_senders(), Channel.EMAIL: held}
    ) as it:
        await it.ask("overdue_3")
        await _wait_until(held.entered)
        await it.env.client.get_workflow_handle(it.invoice_id).terminate(reason="closed: paid")
        held.release.set()
        for _ in range(400):
            lines = it.harness.bitacora(it.number)
            if lines:
                break
            await asyncio.sleep(0.05)
        assert [(line.kind, line.step_id, line.channel) for line in lines] == [
            ("message_sent", "overdue_3", "email")
        ]
        assert lines[0].detail["idempotency_key"] == f"{it.invoice_id}:overdue_3:email"
        assert it.harness.outbox(it.number) == [("overdue_3", "email", "overdue", "sent")]


async def test_a_message_told_again_after_its_invoice_recorded_it_and_closed_is_recorded_once(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """A restarted worker's retried request asks again for a message already sent: the outbox
    sends nothing twice, and the bitácora, which the invoice wrote before it closed, keeps one
    line."""
    held = HeldSender()
    senders = {**recording_senders(), Channel.EMAIL: held}
    async with scene(time_skipping_env, tmp_path, senders) as it:
        with unit_of_work(it.harness.sessions) as session:
            InteractionRepository.from_session(session).append(
                event_key=f"{it.invoice_id}#3",
                occurred_at=await it.env.get_current_time(),
                invoice_number=it.number,
                customer_id=it.customer_id,
                workflow_id=it.invoice_id,
                kind="message_sent",
                step_id="overdue_3",
                channel="email",
                status="sent",
            )
        await it.ask("overdue_3")
        await _wait_until(held.entered)
        await it.env.client.get_workflow_handle(it.invoice_id).terminate(reason="closed: paid")
        held.release.set()
        for _ in range(100):
            if it.harness.outbox(it.number) == [("overdue_3", "email", "overdue", "sent")]:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)
        lines = it.harness.bitacora(it.number)
        assert [(line.kind, line.step_id) for line in lines] == [("message_sent", "overdue_3")]
