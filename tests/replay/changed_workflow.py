"""A deliberately non-deterministic edit of the invoice workflow, under the same name: one timer
before the loop, as a careless change might add. ``test_replay.py`` shows the net catches it."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.invoice import InvoiceDunningWorkflow
    from workflows.messages import InvoiceDunningInput, InvoiceOutcome


@workflow.defn(name="InvoiceDunningWorkflow")
class TimerFirstInvoiceWorkflow(InvoiceDunningWorkflow):
    @workflow.run
    async def run(self, start: InvoiceDunningInput) -> InvoiceOutcome:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(start)
