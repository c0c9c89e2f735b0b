"""Referrals of unpaid invoices to an extrajudicial collection agency."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from dunning_policies.money import validate_currency
from ledger.models import Handoff
from ledger.repositories.base import Repository


class HandoffRepository(Repository[Handoff]):
    model = Handoff

    def add_if_absent(
        self,
        *,
        id: str,
        invoice_number: str,
        customer_id: str,
        agency: str,
        amount_due_minor: int,
        currency: str,
        created_at: datetime,
    ) -> tuple[Handoff, bool]:
        """Hand the invoice over once; a second handoff of the same invoice returns the first."""
        created = self._insert_if_absent(
            {
                "id": id,
                "invoice_number": invoice_number,
                "customer_id": customer_id,
                "agency": agency,
                "amount_due_minor": amount_due_minor,
                "currency": validate_currency(currency),
                "created_at": created_at,
            },
            conflict_on="invoice_number",
        )
        handoff = self.session.scalars(
            select(Handoff).where(Handoff.invoice_number == invoice_number)
        ).one()
        return handoff, created

    def list_handoffs(self) -> Sequence[Handoff]:
        return self.session.scalars(select(Handoff).order_by(Handoff.created_at, Handoff.id)).all()
