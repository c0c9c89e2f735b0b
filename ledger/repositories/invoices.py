"""Invoices: issued by the ERP, then kept up to date with what their workflow reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select

from dunning_policies.money import validate_currency
from ledger.models import Invoice
from ledger.repositories.base import Repository


class InvoiceRepository(Repository[Invoice]):
    model = Invoice

    def get(self, number: str) -> Invoice | None:
        return self._get(number)

    def add_if_absent(
        self,
        *,
        number: str,
        customer_id: str,
        currency: str,
        amount_minor: int,
        issued_on: date,
        due_on: date,
        segment: str,
        policy_name: str,
        policy_version: int,
        workflow_id: str,
        stage: str = "issued",
    ) -> tuple[Invoice, bool]:
        """Record an issued invoice. An ERP re-send returns the stored one, unchanged."""
        if amount_minor < 0:
            raise ValueError(f"invoice {number}: amount_minor must not be negative")
        created = self._insert_if_absent(
            {
                "number": number,
                "customer_id": customer_id,
                "currency": validate_currency(currency),
                "amount_minor": amount_minor,
                "amount_due_minor": amount_minor,
                "issued_on": issued_on,
                "due_on": due_on,
                "stage": stage,
                "segment": segment,
                "policy_name": policy_name,
                "policy_version": policy_version,
                "workflow_id": workflow_id,
            },
            conflict_on="number",
        )
        return self._get_or_raise(number), created

    def update_projection(
        self,
        number: str,
        *,
        stage: str,
        amount_due_minor: int,
        next_action: str | None,
        next_action_at: datetime | None,
        closed_reason: str | None = None,
    ) -> Invoice:
        """Store the workflow's latest view of the invoice (the workflow is the source of truth)."""
        invoice = self._get_or_raise(number)
        invoice.stage = stage
        invoice.amount_due_minor = amount_due_minor
        invoice.next_action = next_action
        invoice.next_action_at = next_action_at
        invoice.closed_reason = closed_reason
        self.session.flush()
        return invoice

    def list_invoices(
        self, *, customer_id: str | None = None, stage: str | None = None
    ) -> Sequence[Invoice]:
        query = select(Invoice).order_by(Invoice.due_on, Invoice.number)
        if customer_id is not None:
            query = query.where(Invoice.customer_id == customer_id)
        if stage is not None:
            query = query.where(Invoice.stage == stage)
        return self.session.scalars(query).all()
