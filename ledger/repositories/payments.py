"""Payments reported by the bank or the gateway, possibly before their invoice exists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, select

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
        status: str = "applied",
        source: str | None = None,
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
                "status": status,
                "source": source,
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

    def total_minor_for_invoice(self, number: str) -> int:
        total = self.session.scalar(
            select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
                Payment.invoice_number == number
            )
        )
        return int(total or 0)

    def list_unapplied(self, invoice_number: str | None = None) -> Sequence[Payment]:
        """Cash whose invoice has not arrived yet (never dropped: applied when it does)."""
        query = select(Payment).where(Payment.status == "unapplied").order_by(Payment.paid_at)
        if invoice_number is not None:
            query = query.where(Payment.invoice_number == invoice_number)
        return self.session.scalars(query).all()

    def has_unapplied(self, invoice_number: str) -> bool:
        """Asked at every issuance, so a plain indexed query, no objects loaded."""
        found = self.session.execute(_UNAPPLIED_FOR_INVOICE, {"number": invoice_number}).first()
        return found is not None

    def mark_applied(self, payment_id: str) -> Payment:
        payment = self._get_or_raise(payment_id)
        payment.status = "applied"
        return payment

    def list_for_customer_payment(self, payment_id: str) -> Sequence[Payment]:
        """The allocations of one payment by customer (ids ``<payment id>#<invoice>``)."""
        return self.session.scalars(
            select(Payment).where(Payment.id.startswith(f"{payment_id}#", autoescape=True))
        ).all()


_UNAPPLIED_FOR_INVOICE = (
    select(Payment.id)
    .where(Payment.invoice_number == bindparam("number"), Payment.status == "unapplied")
    .limit(1)
)
