"""Invoices: issued by the ERP, then kept up to date with what their workflow reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import BindParameter, bindparam, func, or_, select, update

from dunning_policies.money import validate_currency
from ledger.models import Invoice
from ledger.repositories.base import RecordNotFound, Repository, table_of


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
        # Read back with one Core query: a detached row, not an identity-map load.
        row = self.session.execute(_INVOICE_BY_NUMBER, {"number": number}).one()
        return Invoice(**row._mapping), created

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
        """Store the workflow's latest view of the invoice and return the row (see
        ``record_projection``)."""
        self.record_projection(
            number,
            stage=stage,
            amount_due_minor=amount_due_minor,
            next_action=next_action,
            next_action_at=next_action_at,
            closed_reason=closed_reason,
        )
        return self._refreshed(number)

    def record_projection(
        self,
        number: str,
        *,
        stage: str,
        amount_due_minor: int,
        next_action: str | None,
        next_action_at: datetime | None,
        closed_reason: str | None = None,
    ) -> None:
        """Store the workflow's latest view of the invoice (the workflow is the source of truth).

        One UPDATE, and only when something differs, so ``updated_at`` moves only on a change.
        """
        params = {
            "key": number,
            "new_stage": stage,
            "new_amount_due_minor": amount_due_minor,
            "new_next_action": next_action,
            "new_next_action_at": next_action_at,
            "new_closed_reason": closed_reason,
        }
        if self._run(_UPDATE_PROJECTION, params).rowcount > 0:
            return
        if self._run(_NUMBER_BY_KEY, {"key": number}).first() is None:
            raise RecordNotFound(f"no invoices row with key {number!r}")

    def record_policy_migration(self, number: str, *, policy_name: str, version: int) -> None:
        """The invoice's workflow moved to ``version`` of its policy. Only forward: a replayed
        or late event never moves the row back."""
        self._run(
            _MIGRATE_POLICY,
            {"key": number, "policy": policy_name, "new_policy_version": version},
        )

    def record_segment_change(
        self, number: str, *, segment: str, policy_name: str, version: int
    ) -> None:
        """The invoice's workflow now follows another segment's policy (the risk review)."""
        self._run(
            _CHANGE_SEGMENT,
            {"key": number, "segment": segment, "policy": policy_name, "version": version},
        )

    def on_policy_before(
        self, policy_name: str, version: int, *, exclude_stages: Sequence[str] = ()
    ) -> Sequence[Invoice]:
        """Invoices of ``policy_name`` whose workflow runs a version older than ``version`` (the
        candidates of ``dunning policies migrate``), oldest due date first."""
        return self.session.scalars(
            select(Invoice)
            .where(
                Invoice.policy_name == policy_name,
                Invoice.policy_version < version,
                Invoice.stage.not_in(exclude_stages),
            )
            .order_by(Invoice.due_on, Invoice.number)
        ).all()

    def list_invoices(
        self, *, customer_id: str | None = None, stage: str | None = None
    ) -> Sequence[Invoice]:
        query = select(Invoice).order_by(Invoice.due_on, Invoice.number)
        if customer_id is not None:
            query = query.where(Invoice.customer_id == customer_id)
        if stage is not None:
            query = query.where(Invoice.stage == stage)
        return self.session.scalars(query).all()

    def search(
        self,
        *,
        customer_id: str | None = None,
        stage: str | None = None,
        segment: str | None = None,
        overdue_on: date | None = None,
        exclude_stages: Sequence[str] = (),
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[Sequence[Invoice], int]:
        """One page of invoices, oldest due date first, and how many match in all.
        ``overdue_on``: only invoices due before that day and still open."""
        conditions = []
        if customer_id is not None:
            conditions.append(Invoice.customer_id == customer_id)
        if stage is not None:
            conditions.append(Invoice.stage == stage)
        if segment is not None:
            conditions.append(Invoice.segment == segment)
        if overdue_on is not None:
            conditions.append(Invoice.due_on < overdue_on)
        if exclude_stages:
            conditions.append(Invoice.stage.not_in(exclude_stages))
        total = self.session.scalar(select(func.count()).select_from(Invoice).where(*conditions))
        page = self.session.scalars(
            select(Invoice)
            .where(*conditions)
            .order_by(Invoice.due_on, Invoice.number)
            .offset(offset)
            .limit(limit)
        ).all()
        return page, int(total or 0)


_INVOICES = table_of(Invoice)
_PROJECTION = ("stage", "amount_due_minor", "next_action", "next_action_at", "closed_reason")
# Parameter names must differ from the columns an UPDATE sets (SQLAlchemy reserves those).
_KEY: BindParameter[str] = bindparam("key")
_NUMBER_BY_KEY = select(_INVOICES.c.number).where(_INVOICES.c.number == _KEY)
_UPDATE_PROJECTION = (
    update(_INVOICES)
    .where(
        _INVOICES.c.number == _KEY,
        or_(*(_INVOICES.c[f].is_distinct_from(bindparam(f"new_{f}")) for f in _PROJECTION)),
    )
    .values({f: bindparam(f"new_{f}") for f in _PROJECTION})
)

_MIGRATE_POLICY = (
    update(_INVOICES)
    .where(
        _INVOICES.c.number == _KEY,
        _INVOICES.c.policy_name == bindparam("policy"),
        _INVOICES.c.policy_version < bindparam("new_policy_version"),
    )
    .values(policy_version=bindparam("new_policy_version"))
)


_CHANGE_SEGMENT = (
    update(_INVOICES)
    .where(_INVOICES.c.number == _KEY)
    .values(
        segment=bindparam("segment"),
        policy_name=bindparam("policy"),
        policy_version=bindparam("version"),
    )
)


_INVOICE_BY_NUMBER = select(*Invoice.__table__.columns).where(
    Invoice.__table__.c.number == bindparam("number")
)
