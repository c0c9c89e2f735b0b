"""Promises to pay and payment plans as promises: made, then kept or broken."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select

from dunning_policies.money import validate_currency
from ledger.models import Promise
from ledger.repositories.base import Repository

# What the customer's risk looks back on: a broken promise weighs for a year.
RISK_WINDOW = timedelta(days=365)


class KeptRate(NamedTuple):
    kept: int
    broken: int
    rate: float | None
    """kept / (kept + broken); None while nothing has been settled."""


class PromiseRepository(Repository[Promise]):
    model = Promise

    def record_if_absent(
        self,
        *,
        id: str,
        invoice_number: str,
        customer_id: str,
        kind: str,
        source: str,
        promised_date: date,
        amount_minor: int,
        currency: str,
        made_at: datetime,
        first_due: date | None = None,
        plan_id: str | None = None,
    ) -> tuple[Promise, bool]:
        created = self._insert_if_absent(
            {
                "id": id,
                "invoice_number": invoice_number,
                "customer_id": customer_id,
                "kind": kind,
                "source": source,
                "promised_date": promised_date,
                "first_due": first_due,
                "plan_id": plan_id,
                "amount_minor": amount_minor,
                "currency": validate_currency(currency),
                "made_at": made_at,
                "status": "open",
            },
            conflict_on="id",
        )
        return self._get_or_raise(id), created

    def get(self, promise_id: str) -> Promise | None:
        return self._get(promise_id)

    def list_for_invoice(self, number: str) -> Sequence[Promise]:
        return self.session.scalars(
            select(Promise)
            .where(Promise.invoice_number == number)
            .order_by(Promise.made_at, Promise.id)
        ).all()

    def settle_latest_promise(self, invoice_number: str, *, kept: bool, at: datetime) -> bool:
        """The invoice's latest open promise (or payment claim) was kept or broken. An invoice
        holds one promise at a time, so the latest open one is the one the workflow settled."""
        promise = self.session.scalars(
            select(Promise)
            .where(
                Promise.invoice_number == invoice_number,
                Promise.kind != "plan",
                Promise.status == "open",
            )
            .order_by(Promise.made_at.desc(), Promise.id.desc())
        ).first()
        return self._settle(promise, kept=kept, at=at)

    def settle_plan(self, plan_id: str, *, kept: bool, at: datetime) -> bool:
        """The plan (``payment_plans.id``) was completed or broken."""
        promise = self.session.scalars(
            select(Promise).where(Promise.plan_id == plan_id, Promise.status == "open")
        ).first()
        return self._settle(promise, kept=kept, at=at)

    def supersede_open(self, invoice_number: str, *, at: datetime, plans: bool) -> int:
        """The invoice's open promises (and plans, with ``plans``) ended neither kept nor broken:
        a plan replaced the promise, or the invoice closed (cancelled, credited, written off)."""
        query = select(Promise).where(
            Promise.invoice_number == invoice_number, Promise.status == "open"
        )
        if not plans:
            query = query.where(Promise.kind != "plan")
        superseded = self.session.scalars(query).all()
        for promise in superseded:
            promise.status = "superseded"
            promise.settled_at = at
        self.session.flush()
        return len(superseded)

    def _settle(self, promise: Promise | None, *, kept: bool, at: datetime) -> bool:
        if promise is None:
            return False
        promise.status = "kept" if kept else "broken"
        promise.settled_at = at
        self.session.flush()
        return True

    def kept_rate(self, customer_id: str | None = None, since: datetime | None = None) -> KeptRate:
        """Of the promises and plans made since ``since`` (by one customer, or by everyone)
        and already settled, how many were kept. Open ones count for neither side."""
        query = select(Promise.status, func.count()).where(Promise.status.in_(("kept", "broken")))
        if customer_id is not None:
            query = query.where(Promise.customer_id == customer_id)
        if since is not None:
            query = query.where(Promise.made_at >= since)
        counts: dict[str, int] = {
            status: count
            for status, count in self.session.execute(query.group_by(Promise.status)).all()
        }
        kept, broken = int(counts.get("kept", 0)), int(counts.get("broken", 0))
        settled = kept + broken
        return KeptRate(kept, broken, kept / settled if settled else None)

    def broken_in_last_year(self, customer_id: str, now: datetime) -> int:
        """Promises and plans the customer broke in the 365 days before ``now``."""
        total = self.session.scalar(
            select(func.count())
            .select_from(Promise)
            .where(
                Promise.customer_id == customer_id,
                Promise.status == "broken",
                Promise.settled_at > now - RISK_WINDOW,
            )
        )
        return int(total or 0)
