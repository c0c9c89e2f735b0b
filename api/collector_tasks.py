"""Collectors answering negotiation tasks: an Update on the invoice's workflow, whose validator
rejects an unknown task or a bad outcome back to the caller. A payment plan's instalments are
written to the ledger first and withdrawn when the workflow refuses them."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowUpdateFailedError

from api.agreements import propose_plan, with_proposed_plan
from api.errors import InvalidRequest
from dunning_policies.state import TaskOutcome
from dunning_policies.transitions import TaskCompletion
from ledger.db import unit_of_work
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.plans import PlanConflict
from ledger.repositories.tasks import TaskRepository
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import NextAction


async def complete_task(
    client: Client, sessions: sessionmaker[Session], completion: TaskCompletion
) -> NextAction:
    plan_row_id = None
    with unit_of_work(sessions) as session:
        task = TaskRepository.from_session(session).get(completion.task_id)
        if task is None:
            raise InvalidRequest("task", f"unknown task {completion.task_id!r}")
        workflow_id = task.workflow_id
        instalments = completion.instalments or ()
        invoice = InvoiceRepository.from_session(session).get(task.invoice_number)
        # The plan's instalments reach the ledger only this way (see api.agreements); badly
        # numbered ones are left to the workflow's validator to refuse.
        if (
            completion.outcome is TaskOutcome.PAYMENT_PLAN
            and invoice is not None
            and instalments
            and [i.number for i in instalments] == list(range(1, len(instalments) + 1))
        ):
            try:
                plan_row_id = propose_plan(
                    session, invoice, instalments, source="collector", task_id=task.id
                )
            except PlanConflict as error:
                raise InvalidRequest("instalments", str(error)) from error
    handle = client.get_workflow_handle(workflow_id)

    async def complete() -> NextAction:
        try:
            return await handle.execute_update(InvoiceDunningWorkflow.complete_task, completion)
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            message = getattr(cause, "message", None) or str(cause or error)
            raise InvalidRequest("task", message) from error

    if plan_row_id is None:
        return await complete()
    return await with_proposed_plan(sessions, plan_row_id, complete)
