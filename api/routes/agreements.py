"""Promises to pay, payment plans and disputes on an invoice; the dispute desk's cases; the
promises report."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import status as http

from api import agreements
from api.agreement_schemas import (
    DisputeCaseOut,
    DisputeIn,
    DisputeList,
    DisputeResolutionIn,
    InstalmentOut,
    NextActionOut,
    PaymentPlanIn,
    PaymentPlanOut,
    PromiseIn,
    PromiseOut,
    PromiseReportOut,
    SignalledOut,
)
from api.context import READERS, Context, problem, require
from api.errors import InvalidRequest
from api.routes.invoices import ERRORS
from api.schemas import Problem
from dunning_policies.money import from_minor
from ledger.db import unit_of_work
from ledger.models import DisputeCase
from ledger.repositories.disputes import DisputeRepository
from ledger.repositories.plans import PlanConflict
from ledger.repositories.promises import PromiseRepository
from workflows.messages import NextAction

router = APIRouter(prefix="/v1", tags=["agreements"])

# Collectors and the ERP's debtor portal record promises and plans; anyone who hears the
# debtor may open a dispute; only the dispute desk (ops) decides one.
AGREEMENT_MAKERS = Depends(require("erp", "collector"))
DISPUTE_OPENERS = Depends(require("erp", "collector", "ops"))
DISPUTE_DESK = Depends(require("ops"))
CASE_READERS = Depends(require("collector", "ops"))

AGREEMENT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": Problem, "description": "The invoice is not known."},
    409: {"model": Problem, "description": "The invoice's workflow has not run yet."},
    422: {"model": Problem, "description": "Invalid, or refused by the invoice's workflow."},
    503: {"model": Problem, "description": "The invoice's workflow did not answer in time."},
}


def _next(upcoming: NextAction) -> NextActionOut:
    return NextActionOut(action=upcoming.action, at=upcoming.at, detail=upcoming.detail)


@router.post(
    "/invoices/{number}/promise", dependencies=[AGREEMENT_MAKERS], responses=AGREEMENT_ERRORS
)
async def promise(number: str, body: PromiseIn, context: Context) -> PromiseOut:
    """A promise to pay by a date: contact pauses until then (plus the policy's grace days)."""
    try:
        upcoming = await agreements.make_promise(
            context.temporal,
            context.sessions,
            number,
            promised_date=body.promised_date,
            raw_amount=body.amount,
            source=body.source,
            note=body.note,
        )
    except LookupError as error:
        raise problem(404, "number", str(error)) from error
    except agreements.NotRunningYet as error:
        raise problem(409, error.field, str(error)) from error
    except InvalidRequest as error:  # refused by the workflow, too (AgreementRefused)
        raise problem(422, error.field, str(error)) from error
    except agreements.WorkflowUnavailable as error:
        raise problem(503, None, str(error)) from error
    return PromiseOut(
        number=number,
        promised_date=body.promised_date,
        amount=body.amount,
        source=body.source,
        next_action=_next(upcoming),
    )


@router.post(
    "/invoices/{number}/payment-plan",
    status_code=http.HTTP_201_CREATED,
    dependencies=[AGREEMENT_MAKERS],
    responses={
        **AGREEMENT_ERRORS,
        409: {
            "model": Problem,
            "description": "Another plan is being agreed, or the workflow has not run yet.",
        },
    },
)
async def payment_plan(number: str, body: PaymentPlanIn, context: Context) -> PaymentPlanOut:
    """Split what is due into instalments, numbered in the order given; each gets a reminder
    and a due-day notice, and a missed one breaks the plan."""
    try:
        agreed = await agreements.agree_payment_plan(
            context.temporal,
            context.sessions,
            number,
            [(i.due_on, i.amount) for i in body.instalments],
            source=body.source,
        )
    except LookupError as error:
        raise problem(404, "number", str(error)) from error
    except PlanConflict as error:
        raise problem(409, "instalments", str(error)) from error
    except agreements.NotRunningYet as error:
        raise problem(409, error.field, str(error)) from error
    except InvalidRequest as error:  # refused by the workflow, too (AgreementRefused)
        raise problem(422, error.field, str(error)) from error
    except agreements.WorkflowUnavailable as error:
        raise problem(503, None, str(error)) from error
    return PaymentPlanOut(
        number=number,
        plan_id=agreed.plan_id,
        instalments=[
            InstalmentOut(number=i.number, due_on=i.due_on, amount=i.amount)
            for i in agreed.instalments
        ],
        next_action=_next(agreed.next_action),
    )


@router.post(
    "/invoices/{number}/disputes",
    status_code=http.HTTP_202_ACCEPTED,
    dependencies=[DISPUTE_OPENERS],
    responses={**ERRORS, 404: {"model": Problem}, 422: {"model": Problem}},
)
async def open_dispute(number: str, body: DisputeIn, context: Context) -> SignalledOut:
    """The debtor disputes the invoice: only it pauses, and a case opens with an owner and a
    deadline (see ``GET /v1/disputes``)."""
    try:
        delivered = await agreements.open_dispute(
            context.temporal,
            context.sessions,
            number,
            code=body.code,
            reason=body.reason,
            owner=body.owner,
        )
    except LookupError as error:
        raise problem(404, "number", str(error)) from error
    except InvalidRequest as error:
        raise problem(422, error.field, str(error)) from error
    return SignalledOut(number=number, delivered_to_workflow=delivered)


@router.post(
    "/invoices/{number}/disputes/resolve",
    status_code=http.HTTP_202_ACCEPTED,
    dependencies=[DISPUTE_DESK],
    responses={**ERRORS, 404: {"model": Problem}, 422: {"model": Problem}},
)
async def resolve_dispute(number: str, body: DisputeResolutionIn, context: Context) -> SignalledOut:
    """Upheld: a credit note (closing the invoice when it covers the balance). Rejected:
    dunning resumes where it was, its schedule moved on by the days the dispute held it."""
    try:
        delivered = await agreements.resolve_dispute(
            context.temporal,
            context.sessions,
            number,
            upheld=body.upheld,
            note=body.note,
            raw_credit_amount=body.credit_amount,
        )
    except LookupError as error:
        raise problem(404, "number", str(error)) from error
    except InvalidRequest as error:
        raise problem(422, error.field, str(error)) from error
    return SignalledOut(number=number, delivered_to_workflow=delivered)


def _case(case: DisputeCase) -> DisputeCaseOut:
    credit = case.credit_amount_minor
    return DisputeCaseOut(
        case_id=case.case_id,
        invoice_number=case.invoice_number,
        customer_id=case.customer_id,
        code=case.code,
        reason=case.reason,
        owner=case.owner,
        opened_at=case.opened_at,
        deadline=case.deadline,
        status=case.status,
        currency=case.currency,
        resolved_at=case.resolved_at,
        resolution_note=case.resolution_note,
        credit_amount=None if credit is None else from_minor(credit, case.currency),
    )


@router.get("/disputes", dependencies=[CASE_READERS], responses=ERRORS)
def list_disputes(
    context: Context,
    status: Annotated[
        Literal["open", "overdue", "upheld", "rejected", "all"],
        Query(description="open: every case not resolved yet, overdue ones included."),
    ] = "open",
    owner: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> DisputeList:
    """Dispute cases, the nearest deadline first."""
    with unit_of_work(context.sessions) as session:
        cases = DisputeRepository.from_session(session).list_cases(
            status=None if status == "all" else status, owner=owner, limit=limit
        )
        return DisputeList(items=[_case(case) for case in cases])


@router.get("/reports/promises", dependencies=[READERS], responses=ERRORS)
def promises_report(
    context: Context,
    customer_id: str | None = None,
    since: Annotated[
        date | None, Query(description="Only promises and plans made from this day (UTC).")
    ] = None,
) -> PromiseReportOut:
    """How many promises and payment plans were kept, of those already settled."""
    start = None if since is None else datetime.combine(since, time(0), UTC)
    with unit_of_work(context.sessions) as session:
        kept, broken, rate = PromiseRepository.from_session(session).kept_rate(customer_id, start)
    return PromiseReportOut(
        customer_id=customer_id, since=since, kept=kept, broken=broken, rate=rate
    )
