"""Record the histories ``test_replay.py`` replays: ``python -m tests.replay.record --out DIR``.

Runs real scenarios on Temporal's time-skipping server with the real worker and activities (a
throwaway SQLite ledger, recording senders) and writes each workflow's full history as JSON to
``DIR/<scenario>.json``. Run it with the code of the version being recorded on the import path
(see ``tests/replay/README.md``): the histories are that version's behaviour, frozen.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

import workflows.invoice
from api.invoicing import CustomerDetails, NewInvoice, issue_invoice
from dunning_policies.language import Channel, Remind
from dunning_policies.policies.standard import POLICY as STANDARD
from dunning_policies.state import Customer, InvoiceState, TaskOutcome
from dunning_policies.transitions import TaskCompletion, mark_sent, record_issued
from tests.temporal_support import binary, register_search_attributes
from tests.workflows.harness import (
    Harness,
    _idle,
    at_local,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
)
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import (
    ChannelPreference,
    DisputeResolution,
    InvoiceDunningInput,
    Reason,
    workflow_id_for,
)


def invoice_number(scenario: str) -> str:
    """Each scenario's invoice; its workflow id is ``workflow_id_for`` of it (the time-skipping
    server does not write the workflow id into the history)."""
    return f"RPL-{scenario}"


Scenario = Callable[[WorkflowEnvironment, Harness, str], Awaitable[WorkflowHandle[Any, Any]]]


async def _issue(env: WorkflowEnvironment, harness: Harness, number: str) -> tuple[Any, Any]:
    """Issue ``number`` today, due on a Tuesday at least 10 days out; returns (today, due)."""
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    await harness.issue(number, due, issued_on=today)
    return today, due


async def _complete(harness: Harness, number: str, outcome: TaskOutcome, **fields: Any) -> None:
    completion = TaskCompletion(task_id=f"T-{number}-collector_call-1", outcome=outcome, **fields)
    await harness.handle(workflow_id_for(number)).execute_update(
        InvoiceDunningWorkflow.complete_task, completion
    )


async def paid_after_due_day(env: WorkflowEnvironment, harness: Harness, number: str) -> Any:
    """Preventive and due-day reminders sent, then paid in full the next day."""
    _, due = await _issue(env, harness, number)
    paid_at = await sleep_until(env, at_local(due + timedelta(days=1), 12))
    await harness.pay(number, "1250000", paid_at, reference=f"TRX-{number}")
    handle = harness.handle(workflow_id_for(number))
    await handle.result()
    return handle


async def promise_kept(env: WorkflowEnvironment, harness: Harness, number: str) -> Any:
    """Collector task at due + 15, a promise for due + 17, paid on due + 16."""
    _, due = await _issue(env, harness, number)
    await sleep_until(env, at_local(due + timedelta(days=15), 11))
    await _complete(
        harness, number, TaskOutcome.PROMISE_TO_PAY, promised_date=due + timedelta(days=17)
    )
    paid_at = await sleep_until(env, at_local(due + timedelta(days=16), 12))
    await harness.pay(number, "1250000", paid_at, reference=f"TRX-{number}")
    handle = harness.handle(workflow_id_for(number))
    await handle.result()
    return handle


async def promise_broken_then_handoff(
    env: WorkflowEnvironment, harness: Harness, number: str
) -> Any:
    """A promise for due + 16 not kept: broken-promise notice, a second task whose SLA lapses,
    then the agency."""
    _, due = await _issue(env, harness, number)
    await sleep_until(env, at_local(due + timedelta(days=15), 11))
    await _complete(
        harness, number, TaskOutcome.PROMISE_TO_PAY, promised_date=due + timedelta(days=16)
    )
    await sleep_until(env, at_local(due + timedelta(days=25), 12))
    return harness.handle(workflow_id_for(number))


async def dispute_rejected_then_paid(
    env: WorkflowEnvironment, harness: Harness, number: str
) -> Any:
    """Disputed the day after the due date, rejected three days later, paid at due + 5."""
    _, due = await _issue(env, harness, number)
    handle = harness.handle(workflow_id_for(number))
    await sleep_until(env, at_local(due + timedelta(days=1), 11))
    await handle.signal(InvoiceDunningWorkflow.open_dispute, Reason(reason="mercadería dañada"))
    await sleep_until(env, at_local(due + timedelta(days=4), 11))
    await handle.signal(
        InvoiceDunningWorkflow.resolve_dispute, DisputeResolution(upheld=False, note="sin daño")
    )
    paid_at = await sleep_until(env, at_local(due + timedelta(days=5), 12))
    await harness.pay(number, "1250000", paid_at, reference=f"TRX-{number}")
    await handle.result()
    return handle


async def opted_out_fallback(env: WorkflowEnvironment, harness: Harness, number: str) -> Any:
    """WhatsApp opted out before overdue_3 (WhatsApp first): it goes by SMS instead; then paid."""
    _, due = await _issue(env, harness, number)
    handle = harness.handle(workflow_id_for(number))
    await sleep_until(env, at_local(due + timedelta(days=1), 11))
    await handle.signal(
        InvoiceDunningWorkflow.channel_preference,
        ChannelPreference(channel=Channel.WHATSAPP, opted_out=True, source="STOP reply"),
    )
    paid_at = await sleep_until(env, at_local(due + timedelta(days=4), 12))
    await harness.pay(number, "1250000", paid_at, reference=f"TRX-{number}")
    await handle.result()
    return handle


async def cancelled(env: WorkflowEnvironment, harness: Harness, number: str) -> Any:
    """The ERP cancels the invoice after the preventive reminder."""
    _, due = await _issue(env, harness, number)
    handle = harness.handle(workflow_id_for(number))
    await sleep_until(env, at_local(due - timedelta(days=2), 11))
    await handle.signal(InvoiceDunningWorkflow.cancel, Reason(reason="issued in error"))
    await handle.result()
    return handle


class _NoStart:
    async def start_workflow(self, *args: object, **kwargs: object) -> None:
        """Issuance writes the ledger rows; the scenario starts the continued run itself."""


async def continued_run(env: WorkflowEnvironment, harness: Harness, number: str) -> Any:
    """A run started as continue-as-new starts one: carrying the state of a run that sent the
    preventive reminder (the server only suggests continuing after thousands of events, too
    slow to provoke here). Then due-day reminder and paid."""
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    customer = CustomerDetails(
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
    await issue_invoice(
        _NoStart(),  # type: ignore[arg-type]
        harness.sessions,
        harness.settings.task_queue,
        NewInvoice(number, "C-7", Decimal(1_250_000), "CLP", today, due),
        customer,
    )
    start = await env.get_current_time()
    state = InvoiceState(
        invoice_number=number,
        currency="CLP",
        original_amount=Decimal(1_250_000),
        issued_on=today,
        due_on=due,
        customer=Customer(
            id="C-7",
            country="CL",
            timezone="America/Santiago",
            locale="es_CL",
            channels=frozenset({Channel.EMAIL, Channel.SMS, Channel.WHATSAPP}),
        ),
    )
    state = record_issued(state, start, STANDARD)
    preventive = STANDARD.step("preventive")
    assert isinstance(preventive, Remind)
    state = mark_sent(state, preventive, Channel.EMAIL, start, {})
    workflow_id = workflow_id_for(number)
    await env.client.start_workflow(
        InvoiceDunningWorkflow.run,
        InvoiceDunningInput(policy=STANDARD, segment="standard", state=state, continued=True),
        id=workflow_id,
        task_queue=harness.settings.task_queue,
    )
    harness.started.append(workflow_id)
    paid_at = await sleep_until(env, at_local(due, 12))
    await harness.pay(number, "1250000", paid_at, reference=f"TRX-{number}")
    handle = harness.handle(workflow_id)
    await handle.result()
    return handle


SCENARIOS: dict[str, Scenario] = {
    "paid_after_due_day": paid_after_due_day,
    "promise_kept": promise_kept,
    "promise_broken_then_handoff": promise_broken_then_handoff,
    "dispute_rejected_then_paid": dispute_rejected_then_paid,
    "opted_out_fallback": opted_out_fallback,
    "cancelled": cancelled,
    "continued_run": continued_run,
}


async def record(out: Path, only: list[str] | None = None) -> None:
    print(f"recording workflow code from {workflows.invoice.__file__}")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        await register_search_attributes(env.client)
        for name, scenario in SCENARIOS.items():
            if only and name not in only:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                async with running_worker(env.client, Path(tmp)) as harness:
                    handle = await scenario(env, harness, invoice_number(name))
                    for _ in range(200):  # no workflow task or activity half-way
                        if await _idle(handle):
                            break
                        await asyncio.sleep(0.05)
                    history = await handle.fetch_history()
            (out / f"{name}.json").write_text(history.to_json() + "\n")
            print(f"{name}: {len(history.events)} events")
    finally:
        await env.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for <scenario>.json")
    parser.add_argument("--only", nargs="*", choices=list(SCENARIOS), help="some scenarios only")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(record(args.out, args.only))


if __name__ == "__main__":
    main()
