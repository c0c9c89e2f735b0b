"""Collectors answering negotiation tasks: an Update on the invoice's workflow, whose validator
rejects an unknown task or a bad outcome back to the caller."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowUpdateFailedError

from api.errors import InvalidRequest
from dunning_policies.transitions import TaskCompletion
from ledger.db import unit_of_work
from ledger.repositories.tasks import TaskRepository
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import NextAction


async def complete_task(
    client: Client, sessions: sessionmaker[Session], completion: TaskCompletion
) -> NextAction:
    with unit_of_work(sessions) as session:
        task = TaskRepository.from_session(session).get(completion.task_id)
        if task is None:
            raise InvalidRequest("task", f"unknown task {completion.task_id!r}")
        workflow_id = task.workflow_id
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(InvoiceDunningWorkflow.complete_task, completion)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = getattr(cause, "message", None) or str(cause or error)
        raise InvalidRequest("task", message) from error
