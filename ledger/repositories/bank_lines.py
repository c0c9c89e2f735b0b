"""Bank statement lines and what became of each: matched, suggested, unmatched, confirmed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ledger.models import BankLine
from ledger.repositories.base import Repository


class BankLineRepository(Repository[BankLine]):
    model = BankLine

    def get(self, line_id: str) -> BankLine | None:
        return self._get(line_id)

    def add_if_absent(self, values: Mapping[str, Any]) -> bool:
        """A statement imported twice changes nothing: the id is derived from the line itself."""
        return self._insert_if_absent(values, conflict_on="id")

    def resolve(
        self,
        line_id: str,
        *,
        status: str,
        at: datetime,
        invoice_number: str | None = None,
        payment_id: str | None = None,
    ) -> BankLine:
        line = self._get_or_raise(line_id)
        line.status = status
        line.resolved_at = at
        if invoice_number is not None:
            line.invoice_number = invoice_number
        if payment_id is not None:
            line.payment_id = payment_id
        return line

    def list_lines(self, *, status: str | None = None) -> Sequence[BankLine]:
        query = select(BankLine).order_by(BankLine.booked_on, BankLine.id)
        if status is not None:
            query = query.where(BankLine.status == status)
        return self.session.scalars(query).all()
