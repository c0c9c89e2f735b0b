"""The invoices behind a dashboard figure: one page of them, and the totals of all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.models import Customer, Invoice
from ledger.reports.contributions import Contribution


@dataclass(frozen=True)
class InvoiceLine:
    number: str
    customer_id: str | None
    customer_name: str | None
    due_on: date | None
    stage: str | None
    amount_minor: int | None
    amount_due_minor: int | None
    """None: a payment for an invoice the ERP has not sent us yet."""
    in_figure_minor: int
    """What this invoice adds to the figure (its balance, payments, promises…)."""
    items: int
    """How many of its payments, promises or tasks count in the figure (1 for balances)."""

    def days_past_due(self, as_of: date) -> int | None:
        return None if self.due_on is None else (as_of - self.due_on).days


@dataclass(frozen=True)
class InvoicePage:
    lines: tuple[InvoiceLine, ...]
    invoices: int
    """All matching invoices, not only this page's."""
    total_minor: int
    total_items: int


def invoices_behind(
    session: Session, contribution: Contribution, *, offset: int = 0, limit: int = 200
) -> InvoicePage:
    """The invoices of ``contribution``, oldest due date first, ``limit`` from ``offset``."""
    rows = contribution.subquery()
    invoices, total, items = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(rows.c.amount_minor), 0),
            func.coalesce(func.sum(rows.c.item_count), 0),
        )
    ).one()
    page = session.execute(
        select(
            rows.c.invoice_number,
            Invoice.customer_id,
            Customer.name,
            Invoice.due_on,
            Invoice.stage,
            Invoice.amount_minor,
            Invoice.amount_due_minor,
            rows.c.amount_minor,
            rows.c.item_count,
        )
        .select_from(rows)
        .outerjoin(Invoice, Invoice.number == rows.c.invoice_number)
        .outerjoin(Customer, Customer.id == Invoice.customer_id)
        .order_by(Invoice.due_on, rows.c.invoice_number)
        .offset(offset)
        .limit(limit)
    ).all()
    lines = tuple(
        InvoiceLine(
            number=number,
            customer_id=customer_id,
            customer_name=name,
            due_on=due_on,
            stage=stage,
            amount_minor=None if amount is None else int(amount),
            amount_due_minor=None if amount_due is None else int(amount_due),
            in_figure_minor=int(in_figure),
            items=int(count),
        )
        for number, customer_id, name, due_on, stage, amount, amount_due, in_figure, count in page
    )
    return InvoicePage(lines, int(invoices), int(total), int(items))
