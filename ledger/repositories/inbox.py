"""The collectors' inbox: open tasks with what ranks them — the amount due, how late it is,
and how risky the customer has been."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from dunning_policies.money import from_minor
from ledger.models import Customer, Invoice, Promise, Task, User
from ledger.repositories.promises import RISK_WINDOW

HIGH_RISK_SEGMENT = "high_risk"
BROKEN_PROMISE_WEIGHT = Decimal("0.5")
BROKEN_PROMISES_COUNTED = 4


@dataclass(frozen=True)
class InboxFilter:
    queue: str | None = None
    segment: str | None = None
    owner: str | None = None
    """A user id, ``"me"`` (with ``me``), ``"unassigned"``, or None for everyone's."""
    me: str | None = None
    include_snoozed: bool = False


@dataclass(frozen=True)
class InboxTask:
    task_id: str
    queue: str
    kind: str
    created_at: datetime
    sla_due_at: datetime
    snoozed_until: datetime | None
    assignee: str | None
    assignee_name: str | None
    invoice_number: str
    customer_id: str
    customer_name: str
    segment: str
    stage: str
    currency: str
    amount_due_minor: int
    due_on: date
    days_past_due: int
    broken_promises: int
    risk: Decimal
    priority: Decimal

    @property
    def amount_due(self) -> Decimal:
        return from_minor(self.amount_due_minor, self.currency)


@dataclass(frozen=True)
class InboxPage:
    tasks: list[InboxTask]
    total: int
    past_sla: int
    queues: list[str]
    segments: list[str]


def risk_weight(segment: str, broken_promises: int) -> Decimal:
    """2× for the high-risk segment; +0.5 for each promise broken in the last year (up to 4)."""
    weight = Decimal(2) if segment == HIGH_RISK_SEGMENT else Decimal(1)
    return weight + BROKEN_PROMISE_WEIGHT * min(broken_promises, BROKEN_PROMISES_COUNTED)


def priority_of(amount_due: Decimal, days_past_due: int, risk: Decimal) -> Decimal:
    """amount due × days past due (at least 1) × risk: the formula the inbox sorts by."""
    return amount_due * max(days_past_due, 1) * risk


class InboxQuery:
    """Every open task's ranking inputs in one query; ranked and paged here. At 5,000 open tasks
    that is one indexed scan of a few thousand short rows (bench/inbox.py)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def page(
        self,
        filters: InboxFilter,
        *,
        today: date,
        now: datetime,
        offset: int = 0,
        limit: int = 50,
    ) -> InboxPage:
        broken = self._broken_promises(now)
        rows = self.session.execute(self._select(filters, now)).all()
        # Rank on plain tuples and build the page's tasks only: at 5,000 open tasks, making
        # an object per row cost more than the query.
        ranked = []
        past_sla = 0
        for row in rows:
            risk = risk_weight(row.customer_segment or row.segment, broken.get(row.customer_id, 0))
            days = (today - row.due_on).days
            priority = priority_of(from_minor(row.amount_due_minor, row.currency), days, risk)
            if row.sla_due_at < now:
                past_sla += 1
            ranked.append((-priority, row.sla_due_at, row.id, risk, days, row))
        ranked.sort(key=lambda entry: entry[:3])
        tasks = [
            InboxTask(
                task_id=row.id,
                queue=row.queue,
                kind=row.kind,
                created_at=row.created_at,
                sla_due_at=row.sla_due_at,
                snoozed_until=row.snoozed_until,
                assignee=row.assignee,
                assignee_name=row.assignee_name,
                invoice_number=row.invoice_number,
                customer_id=row.customer_id,
                customer_name=row.customer_name,
                segment=row.customer_segment or row.segment,
                stage=row.stage,
                currency=row.currency,
                amount_due_minor=row.amount_due_minor,
                due_on=row.due_on,
                days_past_due=days,
                broken_promises=broken.get(row.customer_id, 0),
                risk=risk,
                priority=-negative_priority,
            )
            for negative_priority, _, _, risk, days, row in ranked[offset : offset + limit]
        ]
        return InboxPage(
            tasks=tasks,
            total=len(ranked),
            past_sla=past_sla,
            queues=self._distinct(Task.queue),
            segments=self._distinct(Invoice.segment),
        )

    def top_task_id(self, filters: InboxFilter, *, today: date, now: datetime) -> str | None:
        found = self.page(filters, today=today, now=now, limit=1).tasks
        return found[0].task_id if found else None

    def _select(self, filters: InboxFilter, now: datetime) -> Select:
        query = (
            select(
                Task.id,
                Task.queue,
                Task.kind,
                Task.created_at,
                Task.sla_due_at,
                Task.snoozed_until,
                Task.assignee,
                User.name.label("assignee_name"),
                Task.invoice_number,
                Task.customer_id,
                Customer.name.label("customer_name"),
                Customer.segment.label("customer_segment"),
                Invoice.segment,
                Invoice.stage,
                Invoice.currency,
                Invoice.amount_due_minor,
                Invoice.due_on,
            )
            .join(Invoice, Invoice.number == Task.invoice_number)
            .join(Customer, Customer.id == Task.customer_id)
            .outerjoin(User, User.id == Task.assignee)
            .where(Task.status == "open")
        )
        if filters.queue:
            query = query.where(Task.queue == filters.queue)
        if filters.segment:
            query = query.where(
                or_(Customer.segment == filters.segment, Invoice.segment == filters.segment)
            )
        if filters.owner == "unassigned":
            query = query.where(Task.assignee.is_(None))
        elif filters.owner == "me" and filters.me:
            query = query.where(Task.assignee == filters.me)
        elif filters.owner:
            query = query.where(Task.assignee == filters.owner)
        if not filters.include_snoozed:
            query = query.where(or_(Task.snoozed_until.is_(None), Task.snoozed_until <= now))
        return query

    def _broken_promises(self, now: datetime) -> dict[str, int]:
        rows = self.session.execute(
            select(Promise.customer_id, func.count())
            .where(Promise.status == "broken", Promise.made_at >= now - RISK_WINDOW)
            .group_by(Promise.customer_id)
        ).all()
        return {customer: count for customer, count in rows}

    def _distinct(self, column: Any) -> list[str]:
        """The values ``column`` takes among open tasks: the filters' choices."""
        values = self.session.scalars(
            select(column)
            .select_from(Task)
            .join(Invoice, Invoice.number == Task.invoice_number)
            .where(Task.status == "open")
            .distinct()
        ).all()
        return sorted(str(value) for value in values if value)
