"""Payments reported by the bank or the gateway, possibly before their invoice exists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from dunning_policies.money import validate_currency
from ledger.models import Payment
from ledger.repositories.base import Repository


class PaymentRepository(Repository[Payment]):
    model = Payment

    def add_if_absent(
        self,
        *,
        id: str,
        invoice_number: str,
        customer_id: str | None,
        amount_minor: int,
        currency: str,
        paid_at: datetime,
        reference: str | None,
    ) -> tuple[Payment, bool]:
        """Record a payment once: the bank re-sending the same payment id changes nothing."""
        if amount_minor <= 0:
            raise ValueError(f"payment {id}: amount_minor must be positive, got {amount_minor}")
        created = self._insert_if_absent(
            {
                "id": id,
                "invoice_number": invoice_number,
                "customer_id": customer_id,
                "amount_minor": amount_minor,
                "currency": validate_currency(currency),
                "paid_at": paid_at,
                "reference": reference,
            },
            conflict_on="id",
        )
        return self._get_or_raise(id), created

    def list_for_invoice(self, number: str) -> Sequence[Payment]:
        return self.session.scalars(
            select(Payment)
            .where(Payment.invoice_number == number)
            .order_by(Payment.paid_at, Payment.id)
        ).all()
