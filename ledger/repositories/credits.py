"""Customer credit: overpayments kept for the customer, and their later use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from dunning_policies.money import validate_currency
from ledger.models import CustomerCredit
from ledger.repositories.base import Repository


class CreditRepository(Repository[CustomerCredit]):
    model = CustomerCredit

    def add_if_absent(
        self,
        *,
        id: str,
        customer_id: str,
        invoice_number: str,
        amount_minor: int,
        currency: str,
        created_at: datetime,
    ) -> tuple[CustomerCredit, bool]:
        """Record a credit movement once. Positive adds to the balance, negative draws on it."""
        if amount_minor == 0:
            raise ValueError(f"credit {id}: amount_minor must not be zero")
        created = self._insert_if_absent(
            {
                "id": id,
                "customer_id": customer_id,
                "invoice_number": invoice_number,
                "amount_minor": amount_minor,
                "currency": validate_currency(currency),
                "created_at": created_at,
            },
            conflict_on="id",
        )
        return self._get_or_raise(id), created

    def balance_minor(self, customer_id: str, currency: str) -> int:
        total = self.session.scalar(
            select(func.coalesce(func.sum(CustomerCredit.amount_minor), 0)).where(
                CustomerCredit.customer_id == customer_id,
                CustomerCredit.currency == validate_currency(currency),
            )
        )
        return int(total or 0)

    def get(self, credit_id: str) -> CustomerCredit | None:
        return self._get(credit_id)
