"""A workflow continued as new (its history grew large) resumes from the state it carried:
nothing recorded twice, the schedule where it was."""

from __future__ import annotations

from decimal import Decimal

from api.invoicing import CustomerDetails, NewInvoice, issue_invoice
from dunning_policies.language import Channel
from dunning_policies.policies.standard import POLICY as STANDARD
from dunning_policies.state import Customer, InvoiceState
from dunning_policies.transitions import mark_sent, record_issued
from ledger.db import unit_of_work
from ledger.repositories.interactions import InteractionRepository
from tests.workflows.harness import (
    at_local,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
)
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import InvoiceDunningInput, workflow_id_for

CUSTOMER = CustomerDetails(
    id="C-7",
    name="Ferretería Los Andes SpA",
    country="CL",
    timezone="America/Santiago",
    locale="es_CL",
    email="pagos@losandes.cl",
    phone="+56912345678",
    whatsapp="+56912345678",
    segment="standard",
)


class _NoStart:
    async def start_workflow(self, *args: object, **kwargs: object) -> None:
        """Issuance without its first run: this test starts the continued run itself."""


async def test_a_continued_run_picks_up_its_carried_state(time_skipping_env, tmp_path):
    env = time_skipping_env
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    async with running_worker(env.client, tmp_path) as harness:
        # The ledger rows as issuance writes them; the first run itself is not needed.
        await issue_invoice(
            _NoStart(),
            harness.sessions,
            harness.settings.task_queue,
            NewInvoice("CAN-1", "C-7", Decimal(1_250_000), "CLP", today, due),
            CUSTOMER,
        )
        workflow_id = workflow_id_for("CAN-1")
        handle = env.client.get_workflow_handle(workflow_id)
        # What the first run would carry into continue-as-new: its state after the preventive
        # reminder, whose events it had already recorded.
        start = await env.get_current_time()
        carried = InvoiceState(
            invoice_number="CAN-1",
            currency="CLP",
            original_amount=Decimal(1_250_000),
            issued_on=today,
            due_on=due,
            customer=Customer(
                id="C-7",
                country="CL",
                timezone="America/Santiago",
                locale="es_CL",
                channels=frozenset(Channel),
            ),
        )
        state = record_issued(carried, start, STANDARD)
        state = mark_sent(state, STANDARD.step("preventive"), Channel.EMAIL, start, {})
        await env.client.start_workflow(
            InvoiceDunningWorkflow.run,
            InvoiceDunningInput(policy=STANDARD, segment="standard", state=state, continued=True),
            id=workflow_id,
            task_queue=harness.settings.task_queue,
        )
        resumed = await handle.query(InvoiceDunningWorkflow.status)
        assert resumed.next_action.action == "send due_day"
        await sleep_until(env, at_local(due, 12))
        status = await handle.query(InvoiceDunningWorkflow.status)
        # Started here, not by the harness: end it here, or its next timer would hold up time
        # skipping for the tests after this one.
        await handle.terminate("test over")

    kinds = [event.kind for event in status.timeline]
    assert kinds == ["issued", "message_sent", "message_sent"], "no second 'issued'"
    assert [e.step_id for e in status.timeline[1:]] == ["preventive", "due_day"]
    assert status.next_action.action == "send overdue_3"
    with unit_of_work(harness.sessions) as session:
        recorded = InteractionRepository.from_session(session).list_for_invoice("CAN-1")
    # The carried events belong to the previous run, which recorded them before continuing;
    # the continued run records only what it adds.
    assert [(i.kind, i.step_id, i.event_key) for i in recorded] == [
        ("message_sent", "due_day", f"{workflow_id}#3")
    ]
