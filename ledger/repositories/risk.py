"""Customer risk: the behaviour the score reads (SQL aggregates per customer), the scores kept,
and the customer's segment the score moves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update

from analytics.risk import CustomerBehaviour, RiskScore
from ledger.models import Customer, CustomerRisk, Invoice, Payment, Promise
from ledger.reports.sql import days_between, utc_date
from ledger.repositories.base import Repository, dialect_insert, excluded, table_of

YEAR = timedelta(days=365)
RECENT = timedelta(days=90)
LONG_OVERDUE = timedelta(days=60)


class RiskRepository(Repository[CustomerRisk]):
    model = CustomerRisk

    def behaviour(self, now: datetime) -> list[CustomerBehaviour]:
        """Every customer's behaviour over the year before ``now``: four grouped queries."""
        today = now.date()
        paid = {row[0]: row[1:] for row in self.session.execute(self._paid_query(today))}
        broken = dict(
            self.session.execute(
                select(Promise.customer_id, func.count(Promise.id))
                .where(Promise.status == "broken", Promise.settled_at > now - YEAR)
                .group_by(Promise.customer_id)
            ).all()
        )
        still_open = Invoice.closed_reason.is_(None) & (Invoice.amount_due_minor > 0)
        long_overdue = Invoice.due_on < today - LONG_OVERDUE
        balances = {
            row[0]: row[1:]
            for row in self.session.execute(
                select(
                    Invoice.customer_id,
                    func.sum(Invoice.amount_due_minor),
                    func.sum(case((long_overdue, Invoice.amount_due_minor), else_=0)),
                )
                .where(still_open)
                .group_by(Invoice.customer_id)
            )
        }
        behaviours = []
        for customer_id, segment in self.session.execute(
            select(Customer.id, Customer.segment).order_by(Customer.id)
        ):
            count, late, average, recent, earlier = paid.get(customer_id, (0, 0, None, None, None))
            open_minor, overdue_minor = balances.get(customer_id, (0, 0))
            behaviours.append(
                CustomerBehaviour(
                    customer_id=customer_id,
                    segment=segment,
                    paid_count=int(count or 0),
                    paid_late_count=int(late or 0),
                    average_days_late=_float(average),
                    broken_promises=int(broken.get(customer_id, 0)),
                    open_minor=int(open_minor or 0),
                    overdue_60_minor=int(overdue_minor or 0),
                    recent_days_late=_float(recent),
                    earlier_days_late=_float(earlier),
                )
            )
        return behaviours

    @staticmethod
    def _paid_query(today: Any) -> Any:
        last_payment = (
            select(
                Payment.invoice_number.label("number"),
                utc_date(func.max(Payment.paid_at)).label("paid_on"),
            )
            .where(Payment.status == "applied")
            .group_by(Payment.invoice_number)
            .subquery()
        )
        late = days_between(last_payment.c.paid_on, Invoice.due_on)
        recent = last_payment.c.paid_on >= today - RECENT
        return (
            select(
                Invoice.customer_id,
                func.count(),
                func.sum(case((late > 30, 1), else_=0)),
                func.avg(late),
                func.avg(case((recent, late))),
                func.avg(case((~recent, late))),
            )
            .join(last_payment, last_payment.c.number == Invoice.number)
            .where(
                Invoice.closed_reason == "paid",
                last_payment.c.paid_on >= today - YEAR,
                last_payment.c.paid_on <= today,
            )
            .group_by(Invoice.customer_id)
        )

    def save(self, scores: Iterable[RiskScore], at: datetime) -> None:
        """Upsert each customer's score, and move the customer's segment where it changed."""
        rows = [
            {
                "customer_id": s.customer_id,
                "score": s.score,
                "segment": s.segment,
                "scored_at": at,
                "reasons": dict(s.reasons),
            }
            for s in scores
        ]
        if not rows:
            return
        insert = dialect_insert(self._dialect, table_of(CustomerRisk))
        statement = insert.on_conflict_do_update(
            index_elements=["customer_id"],
            set_={
                name: excluded(CustomerRisk, name)
                for name in ("score", "segment", "scored_at", "reasons")
            },
        )
        self.session.execute(statement, rows)
        moved = [(s.customer_id, s.segment) for s in scores if s.segment != s.previous_segment]
        for customer_id, segment in moved:
            self.session.execute(
                update(Customer)
                .where(Customer.id == customer_id)
                .values(segment=segment, updated_at=at)
            )

    def list_scores(self) -> Sequence[CustomerRisk]:
        return self.session.scalars(
            select(CustomerRisk).order_by(CustomerRisk.score.desc(), CustomerRisk.customer_id)
        ).all()

    def open_invoice_workflows(self, customer_id: str) -> list[tuple[str, str]]:
        """(invoice number, workflow id) of the customer's invoices still open in the ledger."""
        rows = self.session.execute(
            select(Invoice.number, Invoice.workflow_id)
            .where(Invoice.customer_id == customer_id, Invoice.closed_reason.is_(None))
            .order_by(Invoice.number)
        )
        return [(number, workflow_id) for number, workflow_id in rows]

    def policy_override(self, customer_id: str) -> str | None:
        return self.session.scalar(
            select(Customer.policy_override).where(Customer.id == customer_id)
        )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
