"""Dispute cases: opened, maybe overdue, then upheld or rejected."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select

from dunning_policies.money import validate_currency
from ledger.models import DisputeCase
from ledger.repositories.base import Repository

UNRESOLVED = ("open", "overdue")
"""A case past its deadline is still open: ``overdue`` says its owner is late."""


class DisputeRepository(Repository[DisputeCase]):
    model = DisputeCase

    def open_if_absent(
        self,
        *,
        case_id: str,
        invoice_number: str,
        customer_id: str,
        code: str,
        reason: str,
        owner: str,
        opened_at: datetime,
        deadline: date,
        currency: str,
    ) -> tuple[DisputeCase, bool]:
        created = self._insert_if_absent(
            {
                "case_id": case_id,
                "invoice_number": invoice_number,
                "customer_id": customer_id,
                "code": code,
                "reason": reason,
                "owner": owner,
                "opened_at": opened_at,
                "deadline": deadline,
                "status": "open",
                "currency": validate_currency(currency),
            },
            conflict_on="case_id",
        )
        return self._get_or_raise(case_id), created

    def get(self, case_id: str) -> DisputeCase | None:
        return self._get(case_id)

    def mark_overdue(self, case_id: str) -> DisputeCase | None:
        """Its owner let the deadline pass; a resolved case stays resolved."""
        case = self._get(case_id)
        if case is not None and case.status == "open":
            case.status = "overdue"
            self.session.flush()
        return case

    def resolve(
        self,
        case_id: str,
        *,
        upheld: bool,
        at: datetime,
        note: str | None,
        credit_amount_minor: int | None = None,
    ) -> DisputeCase | None:
        case = self._get(case_id)
        if case is None or case.status not in UNRESOLVED:
            return case
        case.status = "upheld" if upheld else "rejected"
        case.resolved_at = at
        case.resolution_note = note or None
        if upheld and credit_amount_minor is not None:
            case.credit_amount_minor = credit_amount_minor
        self.session.flush()
        return case

    def record_credit(self, case_id: str, amount_minor: int) -> DisputeCase | None:
        """The credit note the upheld case gave: what the workflow really applied, which is
        at most what was due."""
        case = self._get(case_id)
        if case is not None:
            case.credit_amount_minor = amount_minor
            self.session.flush()
        return case

    def list_cases(
        self, *, status: str | None = "open", owner: str | None = None, limit: int = 500
    ) -> Sequence[DisputeCase]:
        """Cases by deadline, the most pressing first. ``status="open"``: every case not yet
        resolved (overdue ones too); ``None``: all of them."""
        query = select(DisputeCase).order_by(DisputeCase.deadline, DisputeCase.case_id)
        if status == "open":
            query = query.where(DisputeCase.status.in_(UNRESOLVED))
        elif status is not None:
            query = query.where(DisputeCase.status == status)
        if owner is not None:
            query = query.where(DisputeCase.owner == owner)
        return self.session.scalars(query.limit(limit)).all()

    def list_open(self, owner: str | None = None) -> Sequence[DisputeCase]:
        """The dispute desk's inbox (or one owner's): unresolved cases, by deadline."""
        return self.list_cases(status="open", owner=owner)
