"""An operator's levers on one invoice: dispute, pause, cancel, write off."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.runtime import console, fail, run, runtime
from ledger.db import unit_of_work
from ledger.repositories.invoices import InvoiceRepository
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import DisputeResolution, Reason

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


def dispute(invoice: str, reason: Because) -> None:
    """Open a dispute: contact stops until it is resolved."""
    _signal(invoice, InvoiceDunningWorkflow.open_dispute, Reason(reason=reason), "dispute opened")


def resolve(
    invoice: str,
    upheld: Annotated[bool, typer.Option("--upheld/--rejected", help="Customer right?")],
    note: Annotated[str, typer.Option(help="How it was decided.")] = "",
) -> None:
    """Resolve a dispute: upheld cancels the invoice, rejected resumes dunning."""
    outcome = "upheld: invoice cancelled" if upheld else "rejected: dunning resumes"
    _signal(
        invoice,
        InvoiceDunningWorkflow.resolve_dispute,
        DisputeResolution(upheld=upheld, note=note),
        f"dispute {outcome}",
    )


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
