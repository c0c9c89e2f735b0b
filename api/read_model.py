"""What the API shows of invoices and customers, read from the ledger (closed ones included)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from api.schemas import (
    CustomerStatementOut,
    InvoiceDetailOut,
    InvoiceOut,
    InvoicePage,
    TimelineEntry,
)
from dunning_policies.money import from_minor
from dunning_policies.state import CLOSED_STAGES
from ledger.models import Interaction, Invoice
from ledger.repositories.contact_blocks import ContactBlockRepository
from ledger.repositories.credits import CreditRepository
from ledger.repositories.customers import CustomerRepository
from ledger.repositories.interactions import InteractionRepository
from ledger.repositories.invoices import InvoiceRepository


def invoice_out(invoice: Invoice) -> InvoiceOut:
    return InvoiceOut(
        number=invoice.number,
        customer_id=invoice.customer_id,
        currency=invoice.currency,
        amount=from_minor(invoice.amount_minor, invoice.currency),
        amount_due=from_minor(invoice.amount_due_minor, invoice.currency),
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        stage=invoice.stage,
        segment=invoice.segment,
        policy=invoice.policy_name,
        policy_version=invoice.policy_version,
        workflow_id=invoice.workflow_id,
        next_action=invoice.next_action,
        next_action_at=invoice.next_action_at,
        closed_reason=invoice.closed_reason,
    )


def timeline(entries: Sequence[Interaction]) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            at=e.occurred_at,
            kind=e.kind,
            step_id=e.step_id,
            channel=e.channel,
            template=e.template,
            status=e.status,
            detail=e.detail,
        )
        for e in entries
    ]


def invoice_detail(session: Session, number: str) -> InvoiceDetailOut | None:
    invoice = InvoiceRepository.from_session(session).get(number)
    if invoice is None:
        return None
    events = InteractionRepository.from_session(session).list_for_invoice(number)
    return InvoiceDetailOut(**invoice_out(invoice).model_dump(), timeline=timeline(events))


def invoice_page(
    session: Session,
    *,
    customer_id: str | None,
    stage: str | None,
    segment: str | None,
    overdue_on: date | None,
    page: int,
    page_size: int,
) -> InvoicePage:
    found, total = InvoiceRepository.from_session(session).search(
        customer_id=customer_id,
        stage=stage,
        segment=segment,
        overdue_on=overdue_on,
        exclude_stages=sorted(CLOSED_STAGES) if overdue_on is not None else (),
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return InvoicePage(
        items=[invoice_out(i) for i in found], page=page, page_size=page_size, total=total
    )


def customer_statement(session: Session, customer_id: str) -> CustomerStatementOut | None:
    customer = CustomerRepository.from_session(session).get(customer_id)
    if customer is None:
        return None
    invoices = InvoiceRepository.from_session(session).list_invoices(customer_id=customer_id)
    open_items = [i for i in invoices if i.stage not in CLOSED_STAGES]
    balances: dict[str, Decimal] = defaultdict(Decimal)
    for item in open_items:
        balances[item.currency] += from_minor(item.amount_due_minor, item.currency)
    credits = CreditRepository.from_session(session)
    currencies = {i.currency for i in invoices}
    credit_balances = {
        currency: from_minor(credits.balance_minor(customer_id, currency), currency)
        for currency in sorted(currencies)
    }
    return CustomerStatementOut(
        id=customer.id,
        name=customer.name,
        tax_id=customer.tax_id,
        country=customer.country,
        segment=customer.segment,
        balances=dict(balances),
        credits={c: amount for c, amount in credit_balances.items() if amount},
        open_items=[invoice_out(i) for i in open_items],
        blocked_channels=ContactBlockRepository.from_session(session).blocked_channels(customer_id),
        timeline=timeline(
            InteractionRepository.from_session(session).list_for_customer(customer_id)
        ),
    )
