"""A customer's statement for the portal: what is open, what it adds up to, what came in.

Read from the ledger (the workflows' projection), for one customer only: every query here is
scoped by the customer the portal token names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from dunning_policies.money import from_minor
from dunning_policies.state import CLOSED_STAGES, Stage
from ledger.models import Invoice
from ledger.repositories.customers import CustomerRepository
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.payments import PaymentRepository

RECENT_PAYMENTS_DAYS = 90
RECENT_PAYMENTS_SHOWN = 10
NOT_REPORTED = "issued"
"""An invoice's stage in the ledger until its workflow first reports: due, as far as we know."""


@dataclass(frozen=True)
class StatementLine:
    number: str
    currency: str
    amount: Decimal
    amount_due: Decimal
    amount_due_minor: int
    issued_on: date
    due_on: date
    days_overdue: int
    stage: str
    highlighted: bool

    @property
    def disputed(self) -> bool:
        return self.stage == Stage.DISPUTED.value

    @property
    def promised(self) -> bool:
        return self.stage in (Stage.PROMISE.value, Stage.PAYMENT_PLAN.value)


@dataclass(frozen=True)
class PaymentLine:
    invoice_number: str
    amount: Decimal
    currency: str
    paid_on: date
    reference: str | None


@dataclass(frozen=True)
class CustomerView:
    id: str
    name: str
    email: str | None
    locale: str
    timezone: str


@dataclass(frozen=True)
class Statement:
    customer: CustomerView
    today: date
    lines: tuple[StatementLine, ...]
    totals: tuple[tuple[str, Decimal], ...]
    """(currency, amount due), in the order the currencies first appear."""
    payments: tuple[PaymentLine, ...]
    settled_highlight: str | None = None
    """The invoice the link was about when it is this customer's and nothing is left to pay."""

    def line(self, number: str) -> StatementLine | None:
        return next((line for line in self.lines if line.number == number), None)

    @property
    def highlighted(self) -> StatementLine | None:
        return next((line for line in self.lines if line.highlighted), None)


def is_open(invoice: Invoice) -> bool:
    return invoice.stage not in CLOSED_STAGES and invoice.amount_due_minor > 0


def owned_invoice(session: Session, customer_id: str, number: str) -> Invoice | None:
    """The invoice ``number`` if it is ``customer_id``'s; None for anyone else's (or none)."""
    invoice = InvoiceRepository.from_session(session).get(number)
    if invoice is None or invoice.customer_id != customer_id:
        return None
    return invoice


def load_statement(
    session: Session,
    customer_id: str,
    *,
    highlight: str | None = None,
    now: datetime | None = None,
) -> Statement | None:
    """None when the customer is not in the ledger."""
    customer = CustomerRepository.from_session(session).snapshot(customer_id)
    if customer is None:
        return None
    moment = now or datetime.now(UTC)
    today = moment.astimezone(ZoneInfo(customer.timezone)).date()
    invoices = InvoiceRepository.from_session(session).list_invoices(customer_id=customer_id)
    lines = tuple(_line(invoice, today, highlight) for invoice in invoices if is_open(invoice))
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.currency] = totals.get(line.currency, Decimal(0)) + line.amount_due
    return Statement(
        customer=CustomerView(
            customer.id, customer.name, customer.email, customer.locale, customer.timezone
        ),
        today=today,
        lines=lines,
        totals=tuple(totals.items()),
        payments=_recent_payments(session, invoices, moment, customer.timezone),
        settled_highlight=next(
            (i.number for i in invoices if i.number == highlight and not is_open(i)), None
        ),
    )


def _line(invoice: Invoice, today: date, highlight: str | None) -> StatementLine:
    return StatementLine(
        number=invoice.number,
        currency=invoice.currency,
        amount=from_minor(invoice.amount_minor, invoice.currency),
        amount_due=from_minor(invoice.amount_due_minor, invoice.currency),
        amount_due_minor=invoice.amount_due_minor,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        days_overdue=max(0, (today - invoice.due_on).days),
        stage=invoice.stage if invoice.stage != NOT_REPORTED else _by_date(invoice.due_on, today),
        highlighted=invoice.number == highlight,
    )


def _by_date(due_on: date, today: date) -> str:
    if today > due_on:
        return Stage.OVERDUE.value
    return Stage.DUE.value if today == due_on else Stage.CURRENT.value


def _recent_payments(
    session: Session, invoices: Sequence[Invoice], now: datetime, timezone: str
) -> tuple[PaymentLine, ...]:
    """Payments of the last days on the customer's invoices, newest first. Only invoices the
    workflow touched in that window can have one, so only theirs are read."""
    since = now - timedelta(days=RECENT_PAYMENTS_DAYS)
    payments = PaymentRepository.from_session(session)
    found = [
        payment
        for invoice in invoices
        if invoice.updated_at >= since
        for payment in payments.list_for_invoice(invoice.number)
        if payment.paid_at >= since
    ]
    found.sort(key=lambda payment: payment.paid_at, reverse=True)
    zone = ZoneInfo(timezone)
    return tuple(
        PaymentLine(
            invoice_number=payment.invoice_number,
            amount=from_minor(payment.amount_minor, payment.currency),
            currency=payment.currency,
            paid_on=payment.paid_at.astimezone(zone).date(),
            reference=payment.reference,
        )
        for payment in found[:RECENT_PAYMENTS_SHOWN]
    )
