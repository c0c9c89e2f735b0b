"""ERP endpoints for invoices: issue, change, cancel, read, list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from api.amendments import amend_invoice, cancel_invoice
from api.context import ERP, READERS, Context, problem
from api.errors import InvalidRequest, InvoiceConflict
from api.invoicing import CustomerDetails, NewInvoice, issue_invoice
from api.read_model import invoice_detail, invoice_page
from api.schemas import (
    AmendedOut,
    CancelIn,
    CancelledOut,
    InvoiceChangeIn,
    InvoiceDetailOut,
    InvoiceIn,
    InvoicePage,
    IssuedOut,
    Problem,
)
from ledger.db import unit_of_work

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body is not valid JSON."},
    401: {"model": Problem, "description": "No API key, or an unknown one."},
    403: {"model": Problem, "description": "The key's role may not do this."},
    422: {"model": Problem, "description": "A field is invalid; the answer names it."},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[ERP],
    responses={
        **ERRORS,
        200: {"model": IssuedOut, "description": "Already issued with the same content."},
        409: {"model": Problem, "description": "Already issued with different content."},
        422: {"model": Problem, "description": "A field is invalid."},
    },
)
async def issue(body: InvoiceIn, context: Context, response: Response) -> IssuedOut:
    """Start the invoice's dunning workflow (the customer is created or updated)."""
    try:
        customer = body.customer.with_defaults()
    except ValueError as error:
        raise problem(422, "customer.country", str(error)) from error
    assert customer.timezone is not None and customer.locale is not None
    try:
        issued = await issue_invoice(
            context.temporal,
            context.sessions,
            context.settings.task_queue,
            NewInvoice(
                number=body.number,
                customer_id=customer.id,
                amount=body.amount,
                currency=body.currency.upper(),
                issued_on=body.issued_on,
                due_on=body.due_on,
            ),
            CustomerDetails(
                id=customer.id,
                name=customer.name,
                country=customer.country,
                timezone=customer.timezone,
                locale=customer.locale,
                email=customer.email,
                phone=customer.phone,
                whatsapp=customer.whatsapp,
                segment=customer.segment,
                tax_id=customer.tax_id,
                debt_type=customer.debt_type,
                subdivision=customer.subdivision,
            ),
            respect_contact_window=not context.settings.relax_contact_windows,
            ledger=context.ledger,
        )
    except InvoiceConflict as error:
        raise problem(409, error.field, str(error)) from error
    except InvalidRequest as error:
        raise problem(422, error.field, str(error)) from error
    if not issued.created:
        response.status_code = status.HTTP_200_OK
    return IssuedOut(
        number=issued.number,
        workflow_id=issued.workflow_id,
        segment=issued.segment,
        policy=issued.policy,
        policy_version=issued.policy_version,
        created=issued.created,
    )


@router.patch(
    "/{number}",
    dependencies=[ERP],
    responses={**ERRORS, 404: {"model": Problem}, 422: {"model": Problem}},
)
async def change(number: str, body: InvoiceChangeIn, context: Context) -> AmendedOut:
    """Move the due date or correct the amount; the workflow replans at once."""
    try:
        amended = await amend_invoice(
            context.temporal,
            context.sessions,
            number,
            due_on=body.due_on,
            raw_amount=body.amount,
            reason=body.reason,
        )
    except LookupError as error:
        raise problem(404, "number", str(error)) from error
    except InvalidRequest as error:
        raise problem(422, error.field, str(error)) from error
    return AmendedOut(
        number=amended.invoice_number,
        due_on=amended.due_on,
        amount=amended.amount,
        delivered_to_workflow=amended.delivered_to_workflow,
    )


@router.post("/{number}/cancel", dependencies=[ERP], responses={**ERRORS, 404: {"model": Problem}})
async def cancel(number: str, body: CancelIn, context: Context) -> CancelledOut:
    """The ERP voided the invoice: contact stops and it leaves the collectors' inbox."""
    try:
        delivered = await cancel_invoice(context.temporal, context.sessions, number, body.reason)
    except LookupError as error:
        raise problem(404, "number", str(error)) from error
    return CancelledOut(number=number, delivered_to_workflow=delivered)


@router.get("/{number}", dependencies=[READERS], responses={**ERRORS, 404: {"model": Problem}})
def read(number: str, context: Context) -> InvoiceDetailOut:
    """Stage, amount due, the next action and when, and the whole timeline."""
    with unit_of_work(context.sessions) as session:
        detail = invoice_detail(session, number)
    if detail is None:
        raise problem(404, "number", f"invoice {number} is not known")
    return detail


@router.get("", dependencies=[READERS], responses=ERRORS)
def list_invoices(
    context: Context,
    customer: str | None = None,
    stage: str | None = None,
    segment: str | None = None,
    overdue: Annotated[bool, Query(description="Only open invoices past their due date.")] = False,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> InvoicePage:
    with unit_of_work(context.sessions) as session:
        return invoice_page(
            session,
            customer_id=customer,
            stage=stage,
            segment=segment,
            overdue_on=datetime.now(UTC).date() if overdue else None,
            page=page,
            page_size=page_size,
        )
