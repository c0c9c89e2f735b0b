"""Credit notes the ERP issued against invoices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select

from dunning_policies.money import validate_currency
from ledger.models import CreditNote
from ledger.repositories.base import Repository


class CreditNoteRepository(Repository[CreditNote]):
    model = CreditNote

    def get(self, note_id: str) -> CreditNote | None:
        return self._get(note_id)

    def add_if_absent(
        self,
        *,
        id: str,
        invoice_number: str,
        amount_minor: int,
        currency: str,
        issued_on: date,
        reason: str | None,
    ) -> tuple[CreditNote, bool]:
        if amount_minor <= 0:
            raise ValueError(f"credit note {id}: amount_minor must be positive")
        created = self._insert_if_absent(
            {
                "id": id,
                "invoice_number": invoice_number,
                "amount_minor": amount_minor,
                "currency": validate_currency(currency),
                "issued_on": issued_on,
                "reason": reason,
            },
            conflict_on="id",
        )
        return self._get_or_raise(id), created

    def total_minor_for_invoice(self, number: str) -> int:
        total = self.session.scalar(
            select(func.coalesce(func.sum(CreditNote.amount_minor), 0)).where(
                CreditNote.invoice_number == number
            )
        )
        return int(total or 0)

    def list_for_invoice(self, number: str) -> Sequence[CreditNote]:
        return self.session.scalars(
            select(CreditNote).where(CreditNote.invoice_number == number).order_by(CreditNote.id)
        ).all()
