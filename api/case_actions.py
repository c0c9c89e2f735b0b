"""What a collector's pages and the debtor's portal do to a case.

Every action on an invoice is an Update on its workflow: the workflow's validator answers at
once, and a refusal reaches the caller as ``InvalidRequest`` naming the field, with the
validator's own words, having written nothing. Who works a task (claim, assign, release) is
the ledger's alone: no workflow hears of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api import agreements
from api.agreements import (
    UPDATE_TIMEOUT,
    AgreedPlan,
    WorkflowUnavailable,
    parse_instalments,
    propose_plan,
    with_proposed_plan,
)
from api.errors import InvalidRequest, parse_amount
from dunning_policies.state import CLOSED_STAGES, CallResult, DisputeCode
from ledger.db import unit_of_work
from ledger.models import Invoice, Task
from ledger.repositories.base import RecordNotFound
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.plans import PlanConflict
from ledger.repositories.tasks import TaskConflict, TaskRepository
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import (
    CallOutcome,
    DisputeOpening,
    Escalation,
    NextAction,
    PaymentClaim,
    PaymentPlanRequest,
    TaskSnooze,
)

log = structlog.get_logger()

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "AgreedPlan",
    "TaskAssignment",
    "WorkflowUnavailable",
    "agree_payment_plan",
    "assign_task",
    "claim_task",
    "escalate_to_handoff",
    "open_dispute",
    "promise_to_pay",
    "record_call",
    "release_task",
    "report_payment_claim",
    "snooze_task",
]


@dataclass(frozen=True)
class _Case:
    number: str
    workflow_id: str
    currency: str


def _open_case(sessions: sessionmaker[Session], number: str) -> _Case:
    with unit_of_work(sessions) as session:
        invoice = InvoiceRepository.from_session(session).get(number)
        if invoice is None:
            raise InvalidRequest("invoice", f"unknown invoice {number!r}")
        _refuse_closed(invoice)
        return _Case(invoice.number, invoice.workflow_id, invoice.currency)


def _refuse_closed(invoice: Invoice) -> None:
    if invoice.stage in CLOSED_STAGES:
        raise InvalidRequest("invoice", f"{invoice.number} is closed ({invoice.stage})")


def _message(model: type[M], **fields: Any) -> M:
    """The Update's argument; a value its model refuses names its field."""
    try:
        return model(**fields)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "request"
        raise InvalidRequest(field, first["msg"]) from error


async def _execute(
    client: Client,
    case: _Case,
    update: Any,
    argument: BaseModel,
    *,
    fields: frozenset[str],
    timeout: timedelta,
) -> NextAction:
    """Run ``update``; a refusal names the field its message starts with (one of ``fields``,
    else ``invoice``); silence is ``WorkflowUnavailable``."""
    handle = client.get_workflow_handle(case.workflow_id)
    try:
        answer: NextAction = await handle.execute_update(
            update, argument, result_type=NextAction, rpc_timeout=timeout
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = getattr(cause, "message", None) or str(cause or error)
        field, _, rest = message.partition(":")
        if field in fields:
            raise InvalidRequest(field, rest.strip()) from error
        first = message.split(maxsplit=1)[0] if message.strip() else ""
        raise InvalidRequest(first if first in fields else "invoice", message) from error
    except RPCTimeoutOrCancelledError as error:
        raise WorkflowUnavailable(
            f"the workflow of {case.number} did not answer within "
            f"{timeout.total_seconds():g} s; it may still apply the request once a worker runs"
        ) from error
    except RPCError as error:
        # The ledger may not know yet that the workflow ended (it is written just after).
        if error.status != RPCStatusCode.NOT_FOUND and "already completed" not in error.message:
            raise
        raise InvalidRequest(
            "invoice", f"{case.number} is closed: its workflow has ended"
        ) from error
    return answer


async def promise_to_pay(
    client: Client,
    sessions: sessionmaker[Session],
    invoice_number: str,
    *,
    promised_date: date,
    amount: str | Decimal | None,
    source: str,
    note: str | None = None,
    timeout: timedelta = UPDATE_TIMEOUT,
) -> NextAction:
    """A promise to pay ``amount`` (all that is due when None) by ``promised_date``: the
    ERP's and the debtor's path (``api.agreements.make_promise``), shared."""
    return await agreements.make_promise(
        client,
        sessions,
        invoice_number,
        promised_date=promised_date,
        raw_amount=amount,
        source=source,
        note=note,
        timeout=timeout,
    )


async def agree_payment_plan(
    client: Client,
    sessions: sessionmaker[Session],
    invoice_number: str,
    *,
    instalments: Sequence[tuple[date, str | Decimal]],
    source: str,
    timeout: timedelta = UPDATE_TIMEOUT,
) -> AgreedPlan:
    """(due date, amount) pairs in order. The plan is written to the ledger ``proposed``
    first and withdrawn when the workflow refuses it (``api.agreements``)."""
    case = _open_case(sessions, invoice_number)
    with unit_of_work(sessions) as session:
        invoice = InvoiceRepository.from_session(session).get(case.number)
        assert invoice is not None
        terms = parse_instalments(instalments, case.currency)
        try:
            row_id = propose_plan(session, invoice, terms, source=source)
        except PlanConflict as error:
            raise InvalidRequest("instalments", str(error)) from error
    request = _message(PaymentPlanRequest, instalments=terms, source=source)

    async def agree() -> NextAction:
        return await _execute(
            client,
            case,
            InvoiceDunningWorkflow.agree_payment_plan,
            request,
            fields=frozenset({"instalments"}),
            timeout=timeout,
        )

    answer = await with_proposed_plan(sessions, row_id, agree)
    log.info("payment plan agreed", invoice=case.number, plan=row_id, instalments=len(terms))
    return AgreedPlan(case.number, row_id.split("/")[-1], terms, answer)


async def open_dispute(
    client: Client,
    sessions: sessionmaker[Session],
    invoice_number: str,
    *,
    code: DisputeCode,
    reason: str,
    source: str,
    owner: str | None = None,
    timeout: timedelta = UPDATE_TIMEOUT,
) -> NextAction:
    """Only this invoice pauses; a case opens with an owner (the policy's dispute desk unless
    ``owner``) and a deadline. A second dispute is refused."""
    case = _open_case(sessions, invoice_number)
    opening = _message(DisputeOpening, reason=reason, code=code, owner=owner, source=source)
    answer = await _execute(
        client,
        case,
        InvoiceDunningWorkflow.open_dispute_case,
        opening,
        fields=frozenset({"reason", "code"}),
        timeout=timeout,
    )
    log.info("dispute opened", invoice=case.number, code=code.value, source=source)
    return answer


async def report_payment_claim(
    client: Client,
    sessions: sessionmaker[Session],
    invoice_number: str,
    *,
    reference: str,
    paid_on: date,
    amount: str | Decimal | None,
    source: str,
    note: str | None = None,
    timeout: timedelta = UPDATE_TIMEOUT,
) -> NextAction:
    """ "I already paid": the invoice waits the policy's days for the money to arrive."""
    case = _open_case(sessions, invoice_number)
    parsed = None if amount is None else parse_amount(amount, case.currency)
    claim = _message(
        PaymentClaim,
        reference=reference,
        paid_on=paid_on,
        amount=parsed,
        source=source,
        note=note,
    )
    answer = await _execute(
        client,
        case,
        InvoiceDunningWorkflow.report_payment_claim,
        claim,
        fields=frozenset({"paid_on", "amount", "reference"}),
        timeout=timeout,
    )
    log.info("payment claimed", invoice=case.number, source=source)
    return answer


async def record_call(
    client: Client,
    sessions: sessionmaker[Session],
    invoice_number: str,
    *,
    outcome: CallResult,
    note: str | None,
    collector: str,
    timeout: timedelta = UPDATE_TIMEOUT,
) -> NextAction:
    """The call's line in the bitácora; a conversation pauses calls where the law says so."""
    case = _open_case(sessions, invoice_number)
    call = _message(CallOutcome, outcome=outcome, note=note, collector=collector)
    answer = await _execute(
        client,
        case,
        InvoiceDunningWorkflow.record_call,
        call,
        fields=frozenset({"outcome"}),
        timeout=timeout,
    )
    log.info("call logged", invoice=case.number, outcome=outcome.value, collector=collector)
    return answer


async def escalate_to_handoff(
    client: Client,
    sessions: sessionmaker[Session],
    invoice_number: str,
    *,
    reason: str,
    collector: str,
    timeout: timedelta = UPDATE_TIMEOUT,
) -> NextAction:
    """To the policy's collection agency now; the steps not yet taken never run."""
    case = _open_case(sessions, invoice_number)
    escalation = _message(Escalation, reason=reason, collector=collector)
    answer = await _execute(
        client,
        case,
        InvoiceDunningWorkflow.escalate_to_handoff,
        escalation,
        fields=frozenset({"reason"}),
        timeout=timeout,
    )
    log.info("escalated to handoff", invoice=case.number, collector=collector)
    return answer


async def snooze_task(
    client: Client,
    sessions: sessionmaker[Session],
    task_id: str,
    *,
    until: datetime,
    collector: str,
    note: str | None = None,
    timeout: timedelta = UPDATE_TIMEOUT,
) -> NextAction:
    """Hide the open task from the inbox until ``until`` (at most 14 days, never past its
    SLA); the ledger's ``tasks.snoozed_until`` follows the workflow's event."""
    with unit_of_work(sessions) as session:
        task = _task(session, task_id)
        if task.status != "open":
            raise InvalidRequest("task_id", f"task {task_id} is {task.status}")
        case = _Case(task.invoice_number, task.workflow_id, "")
    snooze = _message(TaskSnooze, task_id=task_id, until=until, collector=collector, note=note)
    answer = await _execute(
        client,
        case,
        InvoiceDunningWorkflow.snooze_task,
        snooze,
        fields=frozenset({"task_id", "until"}),
        timeout=timeout,
    )
    log.info("task snoozed", task=task_id, until=until.isoformat(), collector=collector)
    return answer


@dataclass(frozen=True)
class TaskAssignment:
    """Who works a task now (None: it waits in its queue)."""

    task_id: str
    invoice_number: str
    assignee: str | None
    claimed_at: datetime | None


def _task(session: Session, task_id: str) -> Task:
    task = TaskRepository.from_session(session).get(task_id)
    if task is None:
        raise InvalidRequest("task_id", f"unknown task {task_id!r}")
    return task


def _assignment(task: Task) -> TaskAssignment:
    return TaskAssignment(task.id, task.invoice_number, task.assignee, task.claimed_at)


async def claim_task(
    sessions: sessionmaker[Session], task_id: str, user_id: str, *, force: bool = False
) -> TaskAssignment:
    """The collector ``user_id`` takes the task; claiming it again is harmless. A task another
    collector works is refused unless ``force`` (a supervisor taking it over)."""
    with unit_of_work(sessions) as session:
        _task(session, task_id)
        try:
            task = TaskRepository.from_session(session).claim(
                task_id, user_id, datetime.now(UTC), force=force
            )
        except TaskConflict as error:
            raise InvalidRequest("task_id", str(error)) from error
        return _assignment(task)


async def assign_task(
    sessions: sessionmaker[Session], task_id: str, user_id: str
) -> TaskAssignment:
    """Ops gives the task to ``user_id``, whoever worked it before."""
    with unit_of_work(sessions) as session:
        _task(session, task_id)
        try:
            task = TaskRepository.from_session(session).assign(task_id, user_id, datetime.now(UTC))
        except RecordNotFound as error:
            raise InvalidRequest("user_id", str(error)) from error
        except TaskConflict as error:
            raise InvalidRequest("task_id", str(error)) from error
        return _assignment(task)


async def release_task(sessions: sessionmaker[Session], task_id: str) -> TaskAssignment:
    """Back to its queue, for any collector to claim."""
    with unit_of_work(sessions) as session:
        _task(session, task_id)
        return _assignment(TaskRepository.from_session(session).release(task_id))
