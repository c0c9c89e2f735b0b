"""An operator's levers on one invoice: dispute, pause, cancel, write off."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from cli.runtime import console, fail, run, runtime
from dunning_policies.state import DisputeCode
from ledger.db import unit_of_work
from ledger.repositories.invoices import InvoiceRepository
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import DisputeOpening, DisputeResolution, Reason

Because = Annotated[str, typer.Option("--reason", help="Why; it goes into the bitácora.")]


def _signal(invoice: str, signal: Any, argument: Any | None, done: str) -> None:
    rt = runtime()
    with unit_of_work(rt.sessions) as session:
        stored = InvoiceRepository.from_session(session).get(invoice)
        if stored is None:
            fail(f"invoice {invoice} is not known")
        workflow_id = stored.workflow_id

    async def go() -> None:
        handle = (await rt.client()).get_workflow_handle(workflow_id)
        if argument is None:
            await handle.signal(signal)
        else:
            await handle.signal(signal, argument)
        console.print(f"{invoice}: {done}")

    run(go)


def dispute(
    invoice: str,
    reason: Because,
    code: Annotated[DisputeCode, typer.Option(help="What is disputed.")] = DisputeCode.OTHER,
    owner: Annotated[str | None, typer.Option(help="Who works the case.")] = None,
) -> None:
    """Open a dispute: this invoice pauses and a case opens with an owner and a deadline."""
    _signal(
        invoice,
        InvoiceDunningWorkflow.open_dispute,
        DisputeOpening(reason=reason, code=code, owner=owner),
        "dispute opened",
    )


def resolve(
    invoice: str,
    upheld: Annotated[bool, typer.Option("--upheld/--rejected", help="Customer right?")],
    note: Annotated[str, typer.Option(help="How it was decided.")] = "",
    credit_amount: Annotated[
        str | None, typer.Option(help="Upheld in part: the credit (default all that is due).")
    ] = None,
) -> None:
    """Resolve a dispute: upheld credits the invoice, rejected resumes dunning."""
    if credit_amount is not None and not upheld:
        fail("credit-amount: only an upheld dispute gives a credit")
    try:
        credit = None if credit_amount is None else Decimal(credit_amount)
        resolution = DisputeResolution(upheld=upheld, note=note, credit_amount=credit)
    except (ArithmeticError, ValidationError):
        fail(f"credit-amount: {credit_amount!r} is not a positive amount")
    outcome = "upheld: invoice credited" if upheld else "rejected: dunning resumes"
    _signal(invoice, InvoiceDunningWorkflow.resolve_dispute, resolution, f"dispute {outcome}")


def pause(invoice: str, reason: Because) -> None:
    """Pause all contact for this invoice."""
    _signal(invoice, InvoiceDunningWorkflow.pause, Reason(reason=reason), "paused")


def resume(invoice: str) -> None:
    """Resume a paused invoice at the step that fits now."""
    _signal(invoice, InvoiceDunningWorkflow.resume, None, "resumed")


def cancel(invoice: str, reason: Because) -> None:
    """Cancel the invoice (e.g. voided in the ERP): its workflow ends."""
    _signal(invoice, InvoiceDunningWorkflow.cancel, Reason(reason=reason), "cancelled")


def write_off(invoice: str, reason: Because) -> None:
    """Write the invoice off as uncollectable: its workflow ends."""
    _signal(invoice, InvoiceDunningWorkflow.write_off, Reason(reason=reason), "written off")
