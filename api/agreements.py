"""Promises to pay, payment plans and disputes, from the ERP's portal, a collector, an operator
or the debtor's own reply.

A promise or a plan is an Update on the invoice's workflow: its validator answers at once, so a
refused one reaches the caller (422, naming the field) and leaves nothing in history. A plan's
instalments are written to the ledger first, ``proposed`` (the workflow's timeline only counts
them), and withdrawn when the workflow refuses the plan. Disputes are signals.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import structlog
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import InvalidRequest, parse_amount
from api.signals import signal_invoice
from dunning_policies.money import to_minor
from dunning_policies.state import CLOSED_STAGES, DisputeCode, Instalment
from ledger.db import unit_of_work
from ledger.models import Invoice
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.plans import InstalmentTerms, PlanRepository
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import (
    DisputeOpening,
    DisputeResolution,
    NextAction,
    PaymentPlanRequest,
    PromiseRequest,
)

log = structlog.get_logger()

UPDATE_TIMEOUT = timedelta(seconds=5)
"""How long a caller waits for the workflow's answer (a running worker gives it in
milliseconds). Without a worker an update would wait for ever; after this the caller hears
503, and the request may still be applied once a worker runs."""
NOT_REPORTED = "issued"
"""An invoice's stage in the ledger until its workflow records progress the first time."""
AGREEMENT_FIELDS = frozenset({"promised_date", "amount", "instalments"})
T = TypeVar("T")


class AgreementRefused(InvalidRequest):
    """The invoice's workflow refused the promise or plan; its message names the field."""

    def __init__(self, message: str) -> None:
        first = message.split(maxsplit=1)[0].rstrip(":") if message.strip() else ""
        ValueError.__init__(self, message)
        self.field = first if first in AGREEMENT_FIELDS else "invoice"


class NotRunningYet(InvalidRequest):
    """The invoice's workflow has not reported once yet (just issued, or no worker has run
    it): nothing could answer an update. Asked again a moment later it usually can."""


class WorkflowUnavailable(RuntimeError):
    """The invoice's workflow did not answer in time (no worker running?)."""


@dataclass(frozen=True)
class _InvoiceRef:
    number: str
    workflow_id: str
    customer_id: str
    currency: str


def _open_invoice(
    session: Session, number: str, action: str, *, answering: bool = False
) -> _InvoiceRef:
    """``answering``: the workflow must answer (an update), so it must have run once."""
    invoice = InvoiceRepository.from_session(session).get(number)
    if invoice is None:
        raise LookupError(f"invoice {number} is not known")
    if invoice.stage in CLOSED_STAGES:
        raise InvalidRequest("invoice", f"{number} is {invoice.stage}: cannot {action}")
    if answering and invoice.stage == NOT_REPORTED:
        raise NotRunningYet(
            "invoice", f"the workflow of {number} has not started running yet; try again shortly"
        )
    return _InvoiceRef(invoice.number, invoice.workflow_id, invoice.customer_id, invoice.currency)


async def _update(
    client: Client, workflow_id: str, update: Any, argument: Any, timeout: timedelta
) -> NextAction:
    """Run the workflow's ``update``, turning its refusal into ``AgreementRefused`` and
    silence into ``WorkflowUnavailable``."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        answer: NextAction = await handle.execute_update(
            update, argument, result_type=NextAction, rpc_timeout=timeout
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        raise AgreementRefused(getattr(cause, "message", None) or str(cause or error)) from error
    except RPCTimeoutOrCancelledError as error:
        raise WorkflowUnavailable(
            f"the workflow of {workflow_id} did not answer within "
            f"{timeout.total_seconds():g} s; it may still apply the request once a worker runs"
        ) from error
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        raise AgreementRefused(f"invoice: the workflow {workflow_id} has ended") from error
    return answer


async def make_promise(
    client: Client,
    sessions: sessionmaker[Session],
    number: str,
    *,
    promised_date: date,
    raw_amount: str | Decimal | None = None,
    source: str,
    note: str | None = None,
    timeout: timedelta = UPDATE_TIMEOUT,
) -> NextAction:
    """A promise to pay (all that is due unless ``raw_amount``) by ``promised_date``."""
    with unit_of_work(sessions) as session:
        invoice = _open_invoice(session, number, "promise to pay it", answering=True)
    amount = None if raw_amount is None else parse_amount(raw_amount, invoice.currency)
    request = PromiseRequest(promised_date=promised_date, amount=amount, source=source, note=note)
    upcoming = await _update(
        client, invoice.workflow_id, InvoiceDunningWorkflow.make_promise, request, timeout
    )
    log.info("promise made", invoice=number, promised_date=str(promised_date), source=source)
    return upcoming


def parse_instalments(
    raw: Sequence[tuple[date, str | Decimal]], currency: str
) -> tuple[Instalment, ...]:
    """(due date, amount) pairs in order → instalments numbered 1, 2, 3…"""
    if not raw:
        raise InvalidRequest("instalments", "give at least one instalment")
    instalments = []
    for position, (due_on, raw_amount) in enumerate(raw):
        amount = parse_amount(raw_amount, currency, f"instalments.{position}.amount")
        try:
            instalments.append(Instalment(number=position + 1, due_on=due_on, amount=amount))
        except ValidationError as error:
            raise InvalidRequest(f"instalments.{position}", str(error)) from error
    return tuple(instalments)


def propose_plan(
    session: Session,
    invoice: Invoice | _InvoiceRef,
    instalments: Sequence[Instalment],
    *,
    source: str,
    task_id: str | None = None,
) -> str:
    """Write the plan ``proposed`` with its instalments, under the id the workflow will give
    it; returns the plan's ledger id (``F-1/plan1``). ``PlanConflict`` if another is on its
    way for the same invoice."""
    number = invoice.number
    plans = PlanRepository.from_session(session)
    plan = plans.propose(
        invoice_number=number,
        customer_id=invoice.customer_id,
        plan_id=plans.next_plan_id(number),
        source=source,
        currency=invoice.currency,
        instalments=[
            InstalmentTerms(i.number, i.due_on, to_minor(i.amount, invoice.currency))
            for i in instalments
        ],
        at=datetime.now(UTC),
        task_id=task_id,
    )
    return plan.id


async def with_proposed_plan(
    sessions: sessionmaker[Session], plan_row_id: str, agree: Callable[[], Awaitable[T]]
) -> T:
    """Run ``agree`` (the update that agrees the proposed plan); withdraw the proposal when the
    workflow refuses it or the call fails. A timeout keeps it: the plan may still be agreed."""
    try:
        return await agree()
    except WorkflowUnavailable:
        raise
    except Exception:
        with unit_of_work(sessions) as session:
            PlanRepository.from_session(session).withdraw(plan_row_id)
        raise


@dataclass(frozen=True)
class AgreedPlan:
    number: str
    plan_id: str
    instalments: tuple[Instalment, ...]
    next_action: NextAction


async def agree_payment_plan(
    client: Client,
    sessions: sessionmaker[Session],
    number: str,
    raw_instalments: Sequence[tuple[date, str | Decimal]],
    *,
    source: str,
    timeout: timedelta = UPDATE_TIMEOUT,
) -> AgreedPlan:
    with unit_of_work(sessions) as session:
        invoice = _open_invoice(session, number, "agree a payment plan", answering=True)
        instalments = parse_instalments(raw_instalments, invoice.currency)
        row_id = propose_plan(session, invoice, instalments, source=source)
    request = PaymentPlanRequest(instalments=instalments, source=source)
    upcoming = await with_proposed_plan(
        sessions,
        row_id,
        lambda: _update(
            client, invoice.workflow_id, InvoiceDunningWorkflow.agree_payment_plan, request, timeout
        ),
    )
    log.info("payment plan agreed", invoice=number, plan=row_id, instalments=len(instalments))
    return AgreedPlan(number, row_id.split("/")[-1], instalments, upcoming)


async def open_dispute(
    client: Client,
    sessions: sessionmaker[Session],
    number: str,
    *,
    code: DisputeCode,
    reason: str,
    owner: str | None = None,
) -> bool:
    """Only this invoice pauses; the workflow opens a case with an owner and a deadline.
    False when the workflow has already ended."""
    with unit_of_work(sessions) as session:
        invoice = _open_invoice(session, number, "dispute it")
    opening = DisputeOpening(reason=reason, code=code, owner=owner)
    return await signal_invoice(
        client, invoice.workflow_id, InvoiceDunningWorkflow.open_dispute, opening
    )


async def resolve_dispute(
    client: Client,
    sessions: sessionmaker[Session],
    number: str,
    *,
    upheld: bool,
    note: str = "",
    raw_credit_amount: str | Decimal | None = None,
) -> bool:
    """Upheld: a credit note (all that is due unless ``raw_credit_amount``); rejected: dunning
    resumes where it was. An invoice without an open dispute ignores it."""
    if raw_credit_amount is not None and not upheld:
        raise InvalidRequest("credit_amount", "only an upheld dispute gives a credit")
    with unit_of_work(sessions) as session:
        invoice = _open_invoice(session, number, "resolve a dispute")
    credit = (
        None
        if raw_credit_amount is None
        else parse_amount(raw_credit_amount, invoice.currency, "credit_amount")
    )
    resolution = DisputeResolution(upheld=upheld, note=note, credit_amount=credit)
    return await signal_invoice(
        client, invoice.workflow_id, InvoiceDunningWorkflow.resolve_dispute, resolution
    )


async def promise_from_reply(
    client: Client,
    sessions: sessionmaker[Session],
    customer_id: str,
    promised_date: date,
    text: str,
    *,
    timeout: timedelta = UPDATE_TIMEOUT,
) -> str | None:
    """The debtor wrote "PAGARÉ 30/11": a promise on their open invoice with the oldest due
    date (one invoice: the reply names a date, not which invoices, and the oldest is the one
    dunning presses hardest). The invoice promised, or None when there is none or its
    workflow refused (the caller then hands the reply to a collector)."""
    with unit_of_work(sessions) as session:
        oldest = next(
            (
                invoice.number
                for invoice in InvoiceRepository.from_session(session).list_invoices(
                    customer_id=customer_id
                )
                if invoice.stage not in CLOSED_STAGES and invoice.stage != "disputed"
            ),
            None,
        )
    if oldest is None:
        log.info("promise by reply: no open invoice", customer=customer_id)
        return None
    try:
        await make_promise(
            client,
            sessions,
            oldest,
            promised_date=promised_date,
            source="debtor_reply",
            note=text,
            timeout=timeout,
        )
    except (InvalidRequest, LookupError, WorkflowUnavailable) as error:
        log.warning("promise by reply refused", invoice=oldest, reason=str(error))
        return None
    return oldest
