"""ERP and bank endpoints for money in: payments and credit notes."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.amendments import apply_credit_note
from api.context import ERP, Context, problem
from api.errors import InvalidRequest
from api.payments import record_customer_payment, record_payment
from api.routes.invoices import ERRORS
from api.schemas import AllocationOut, CreditNoteIn, CreditNoteOut, PaymentIn, PaymentOut, Problem

router = APIRouter(prefix="/v1", tags=["payments"])


@router.post(
    "/payments",
    dependencies=[ERP],
    responses={
        **ERRORS,
        202: {"model": PaymentOut, "description": "Invoice not known yet: kept as unapplied cash."},
        422: {"model": Problem},
    },
)
async def pay(body: PaymentIn, context: Context, response: Response) -> PaymentOut:
    """A payment for one invoice, or for a customer (spread over its invoices oldest first)."""
    if (body.invoice_number is None) == (body.customer_id is None):
        raise problem(422, "invoice_number", "give either invoice_number or customer_id")
    try:
        if body.customer_id is not None:
            if body.currency is None or body.reference is None:
                raise InvalidRequest(
                    "currency" if body.currency is None else "reference",
                    "a payment by customer needs its currency and the bank's reference",
                )
            allocated = await record_customer_payment(
                context.temporal,
                context.sessions,
                body.customer_id,
                body.amount,
                body.currency.upper(),
                reference=body.reference,
                paid_at=body.paid_at,
                source="api",
            )
            return PaymentOut(
                payment_id=allocated.payment_id,
                status="allocated",
                amount=allocated.amount,
                currency=allocated.currency,
                customer_id=allocated.customer_id,
                allocations=[
                    AllocationOut(
                        invoice_number=a.invoice_number,
                        payment_id=a.payment_id,
                        amount=a.amount,
                        delivered_to_workflow=a.delivered_to_workflow,
                    )
                    for a in allocated.allocations
                ],
                credit=allocated.credit,
            )
        assert body.invoice_number is not None
        recorded = await record_payment(
            context.temporal,
            context.sessions,
            body.invoice_number,
            body.amount,
            paid_at=body.paid_at,
            reference=body.reference,
            currency=body.currency.upper() if body.currency else None,
            source="api",
        )
    except InvalidRequest as error:
        raise problem(422, error.field, str(error)) from error
    if recorded.unapplied:
        response.status_code = status.HTTP_202_ACCEPTED
    return PaymentOut(
        payment_id=recorded.payment_id,
        status="unapplied" if recorded.unapplied else "applied",
        amount=recorded.amount,
        currency=recorded.currency,
        invoice_number=recorded.invoice_number,
        created=recorded.new,
    )


@router.post(
    "/credit-notes",
    status_code=status.HTTP_201_CREATED,
    dependencies=[ERP],
    responses={
        **ERRORS,
        200: {"model": CreditNoteOut, "description": "Already applied (same content)."},
        404: {"model": Problem},
        409: {"model": Problem, "description": "Same id with other content."},
        422: {"model": Problem},
    },
)
async def credit(body: CreditNoteIn, context: Context, response: Response) -> CreditNoteOut:
    """Lower what is owed on an invoice; a credit note for all of it closes the invoice."""
    try:
        applied = await apply_credit_note(
            context.temporal,
            context.sessions,
            note_id=body.id,
            invoice_number=body.invoice_number,
            raw_amount=body.amount,
            issued_on=body.issued_on,
            reason=body.reason,
        )
    except LookupError as error:
        raise problem(404, "invoice_number", str(error)) from error
    except InvalidRequest as error:
        raise problem(409 if error.field == "id" else 422, error.field, str(error)) from error
    if not applied.new:
        response.status_code = status.HTTP_200_OK
    return CreditNoteOut(
        id=applied.id,
        invoice_number=applied.invoice_number,
        amount=applied.amount,
        currency=applied.currency,
        created=applied.new,
        delivered_to_workflow=applied.delivered_to_workflow,
    )
