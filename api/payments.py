"""Payments from the ERP, the bank and gateways: recorded first, then told to their invoice.

A payment for an invoice we do not know yet is kept as unapplied cash and applied the moment
the invoice is issued. A payment by customer is spread over the open invoices oldest first;
what is left over goes to the newest one, whose workflow books it as the customer's credit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import structlog
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.errors import InvalidRequest, parse_amount
from api.signals import signal_invoice
from dunning_policies.money import from_minor, to_minor, validate_currency
from dunning_policies.state import CLOSED_STAGES
from ledger.db import unit_of_work
from ledger.models import Invoice
from ledger.repositories.credit_notes import CreditNoteRepository
from ledger.repositories.credits import CreditRepository
from ledger.repositories.customers import CustomerRepository
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.payments import PaymentRepository
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import PaymentNotice, workflow_id_for

log = structlog.get_logger()


@dataclass(frozen=True)
class RecordedPayment:
    payment_id: str
    invoice_number: str
    amount: Decimal
    currency: str
    new: bool
    delivered_to_workflow: bool
    unapplied: bool = False


@dataclass(frozen=True)
class Allocation:
    invoice_number: str
    payment_id: str
    amount: Decimal
    delivered_to_workflow: bool


@dataclass(frozen=True)
class CustomerPayment:
    payment_id: str
    customer_id: str
    amount: Decimal
    currency: str
    allocations: tuple[Allocation, ...]
    credit: Decimal
    """What no open invoice could take, kept as the customer's credit."""
    new: bool = True
    """False when this payment (same customer and reference) was already recorded."""


def _aware(paid_at: datetime | None) -> datetime:
    paid_at = paid_at or datetime.now(UTC)
    if paid_at.tzinfo is None:
        raise InvalidRequest("paid_at", "needs a UTC offset, e.g. 2026-12-01T10:00:00-03:00")
    return paid_at.astimezone(UTC)


async def record_payment(
    client: Client,
    sessions: sessionmaker[Session],
    invoice_number: str,
    raw_amount: str | Decimal,
    *,
    paid_at: datetime | None = None,
    reference: str | None = None,
    currency: str | None = None,
    source: str | None = None,
) -> RecordedPayment:
    """Record a payment against one invoice. ``currency`` is required when the invoice is not
    known yet; a reference makes the call idempotent (without one every call is a new payment)."""
    paid_at = _aware(paid_at)
    invoice_number = invoice_number.strip()
    if not invoice_number:
        raise InvalidRequest("invoice_number", "is empty")
    payment_id = (
        f"{invoice_number}:{reference}" if reference else f"{invoice_number}:{uuid.uuid4()}"
    )
    with unit_of_work(sessions) as session:
        invoice = InvoiceRepository.from_session(session).get(invoice_number)
        if invoice is None and currency is None:
            raise InvalidRequest(
                "currency", f"invoice {invoice_number} is not known yet: give the currency"
            )
        try:
            stated = currency if currency is not None else invoice.currency if invoice else ""
            paid_currency = validate_currency(stated)
        except ValueError as error:
            raise InvalidRequest("currency", str(error)) from error
        if invoice is not None and paid_currency != invoice.currency:
            raise InvalidRequest(
                "currency",
                f"invoice {invoice_number} is in {invoice.currency}, not {paid_currency}",
            )
        amount = parse_amount(raw_amount, paid_currency)
        payment, new = PaymentRepository.from_session(session).add_if_absent(
            id=payment_id,
            invoice_number=invoice_number,
            customer_id=invoice.customer_id if invoice else None,
            amount_minor=to_minor(amount, paid_currency),
            currency=paid_currency,
            paid_at=paid_at,
            reference=reference,
            status="applied" if invoice else "unapplied",
            source=source,
        )
        unapplied = payment.status == "unapplied"
    if unapplied:
        log.info(
            "payment kept as unapplied cash until its invoice arrives",
            invoice=invoice_number,
            payment=payment_id,
            amount=str(amount),
        )
        return RecordedPayment(payment_id, invoice_number, amount, paid_currency, new, False, True)
    delivered = await signal_invoice(
        client,
        workflow_id_for(invoice_number),
        InvoiceDunningWorkflow.payment_received,
        PaymentNotice(id=payment_id, amount=amount, paid_at=paid_at, reference=reference),
    )
    if not delivered:
        log.warning("payment for a closed invoice kept in the ledger", invoice=invoice_number)
    log.info("payment recorded", invoice=invoice_number, payment=payment_id, amount=str(amount))
    return RecordedPayment(payment_id, invoice_number, amount, paid_currency, new, delivered)


async def apply_waiting_payments(
    client: Client, sessions: sessionmaker[Session], invoice_number: str
) -> list[str]:
    """Hand the cash that arrived before its invoice to the invoice's workflow, now it runs."""
    with unit_of_work(sessions) as session:
        waiting = [
            (p.id, p.amount_minor, p.currency, p.paid_at, p.reference)
            for p in PaymentRepository.from_session(session).list_unapplied(invoice_number)
        ]
        invoice = InvoiceRepository.from_session(session).get(invoice_number)
        customer_id = invoice.customer_id if invoice else None
    applied: list[str] = []
    for payment_id, amount_minor, currency, paid_at, reference in waiting:
        await signal_invoice(
            client,
            workflow_id_for(invoice_number),
            InvoiceDunningWorkflow.payment_received,
            PaymentNotice(
                id=payment_id,
                amount=from_minor(amount_minor, currency),
                paid_at=paid_at,
                reference=reference,
            ),
        )
        with unit_of_work(sessions) as session:
            payment = PaymentRepository.from_session(session).mark_applied(payment_id)
            payment.customer_id = customer_id
        applied.append(payment_id)
        log.info("unapplied cash applied", invoice=invoice_number, payment=payment_id)
    return applied


def _open_balance_minor(session: Session, invoice: Invoice) -> int:
    paid = PaymentRepository.from_session(session).total_minor_for_invoice(invoice.number)
    credited = CreditNoteRepository.from_session(session).total_minor_for_invoice(invoice.number)
    return invoice.amount_minor - paid - credited


async def record_customer_payment(
    client: Client,
    sessions: sessionmaker[Session],
    customer_id: str,
    raw_amount: str | Decimal,
    currency: str,
    *,
    reference: str,
    paid_at: datetime | None = None,
    source: str | None = None,
) -> CustomerPayment:
    """Spread one payment over the customer's open invoices, oldest due date first."""
    paid_at = _aware(paid_at)
    if not reference.strip():
        raise InvalidRequest("reference", "a payment by customer needs the bank's reference")
    try:
        currency = validate_currency(currency)
    except ValueError as error:
        raise InvalidRequest("currency", str(error)) from error
    amount = parse_amount(raw_amount, currency)
    payment_id = f"{customer_id}:{reference.strip()}"
    plan: list[tuple[str, int]] = []
    credit_minor = 0
    with unit_of_work(sessions) as session:
        if CustomerRepository.from_session(session).get(customer_id) is None:
            raise InvalidRequest("customer_id", f"{customer_id} is not known")
        payments = PaymentRepository.from_session(session)
        already = list(payments.list_for_customer_payment(payment_id))
        credit_seen = CreditRepository.from_session(session).get(f"CR-{payment_id}")
        new = not already and credit_seen is None
        if already:
            plan = [(p.invoice_number, p.amount_minor) for p in already]
        else:
            remaining = to_minor(amount, currency)
            invoices = [
                invoice
                for invoice in InvoiceRepository.from_session(session).list_invoices(
                    customer_id=customer_id
                )
                if invoice.currency == currency and invoice.stage not in CLOSED_STAGES
            ]
            balances = [(i, _open_balance_minor(session, i)) for i in invoices]
            balances = [(i, b) for i, b in balances if b > 0]
            for position, (invoice, balance) in enumerate(balances):
                last = position == len(balances) - 1
                share = remaining if last else min(balance, remaining)
                if share <= 0:
                    break
                plan.append((invoice.number, share))
                remaining -= share
            credit_minor = remaining
            for number, share in plan:
                payments.add_if_absent(
                    id=f"{payment_id}#{number}",
                    invoice_number=number,
                    customer_id=customer_id,
                    amount_minor=share,
                    currency=currency,
                    paid_at=paid_at,
                    reference=reference,
                    source=source,
                )
            if credit_minor > 0:
                CreditRepository.from_session(session).add_if_absent(
                    id=f"CR-{payment_id}",
                    customer_id=customer_id,
                    invoice_number="",
                    amount_minor=credit_minor,
                    currency=currency,
                    created_at=paid_at,
                )
    allocations = []
    for number, share in plan:
        share_amount = from_minor(share, currency)
        delivered = await signal_invoice(
            client,
            workflow_id_for(number),
            InvoiceDunningWorkflow.payment_received,
            PaymentNotice(
                id=f"{payment_id}#{number}",
                amount=share_amount,
                paid_at=paid_at,
                reference=reference,
            ),
        )
        allocations.append(Allocation(number, f"{payment_id}#{number}", share_amount, delivered))
    log.info(
        "customer payment allocated",
        customer=customer_id,
        payment=payment_id,
        invoices=[a.invoice_number for a in allocations],
        credit=str(from_minor(credit_minor, currency)),
    )
    return CustomerPayment(
        payment_id,
        customer_id,
        amount,
        currency,
        tuple(allocations),
        from_minor(credit_minor, currency),
        new,
    )
