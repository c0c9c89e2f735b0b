"""Everything a collector sees of one customer at once: invoices, balance, open tasks, cases,
promises and plans, and the bitácora across every invoice and channel."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from dunning_policies.money import from_minor
from dunning_policies.state import CLOSED_STAGES
from ledger.models import (
    Customer,
    DisputeCase,
    Interaction,
    Invoice,
    Payment,
    PaymentPlan,
    Promise,
    Task,
)

BITACORA_LINES = 300


@dataclass(frozen=True)
class CustomerView:
    customer: Customer
    invoices: list[Invoice]
    open_invoices: list[Invoice]
    balance: dict[str, Decimal]
    """Open amount due per currency."""
    tasks: list[Task]
    cases: list[DisputeCase]
    promises: list[Promise]
    plans: list[PaymentPlan]
    payments: list[Payment]
    bitacora: list[Interaction]
    """Newest first."""
    broken_promises: int


def load_customer_view(session: Session, customer_id: str) -> CustomerView | None:
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    closed = [stage.value for stage in CLOSED_STAGES]
    invoices = list(
        session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == customer_id)
            .order_by(case((Invoice.stage.in_(closed), 1), else_=0), Invoice.due_on)
        )
    )
    numbers = [invoice.number for invoice in invoices]
    open_invoices = [invoice for invoice in invoices if invoice.stage not in closed]
    balance: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in open_invoices:
        balance[invoice.currency] += from_minor(invoice.amount_due_minor, invoice.currency)
    promises = list(
        session.scalars(
            select(Promise).where(Promise.customer_id == customer_id).order_by(Promise.made_at)
        )
    )
    return CustomerView(
        customer=customer,
        invoices=invoices,
        open_invoices=open_invoices,
        balance=dict(balance),
        tasks=list(
            session.scalars(
                select(Task)
                .where(Task.customer_id == customer_id, Task.status == "open")
                .order_by(Task.sla_due_at)
            )
        ),
        cases=list(
            session.scalars(
                select(DisputeCase)
                .where(DisputeCase.customer_id == customer_id)
                .order_by(DisputeCase.opened_at.desc())
            )
        ),
        promises=promises,
        plans=list(
            session.scalars(
                select(PaymentPlan)
                .where(PaymentPlan.customer_id == customer_id)
                .order_by(PaymentPlan.proposed_at.desc())
            )
        ),
        payments=list(
            session.scalars(
                select(Payment)
                .where(Payment.invoice_number.in_(numbers))
                .order_by(Payment.paid_at.desc())
            )
        )
        if numbers
        else [],
        bitacora=list(
            session.scalars(
                select(Interaction)
                .where(Interaction.customer_id == customer_id)
                .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
                .limit(BITACORA_LINES)
            )
        ),
        broken_promises=sum(1 for promise in promises if promise.status == "broken"),
    )
