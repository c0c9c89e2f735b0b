"""What each invoice contributes to a dashboard figure, as one SQL query per figure.

Every query here yields one row per invoice with the same three columns — ``invoice_number``,
``amount_minor`` (what the invoice adds to the figure) and ``item_count`` (how many payments,
promises or tasks of it count) — so a figure is ``SUM``/``COUNT`` over the query and its
drill-down list is the same query joined to the invoices: the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    Subquery,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)

from dunning_policies.state import CLOSED_STAGES
from ledger.models import (
    CreditNote,
    Interaction,
    Invoice,
    Payment,
    PaymentPlan,
    PlanInstalment,
    Promise,
    Task,
)
from ledger.reports.sql import days_before
from ledger.reports.window import ReportWindow, day_start

CLOSED = tuple(str(stage) for stage in CLOSED_STAGES)
NOT_A_SALE = "cancelled"
"""A cancelled invoice was never owed: it counts in no sale and no balance."""
NO_CONTACT = "none"
"""The channel and step of a payment no message preceded within the contact window."""
PROMISE_OUTCOMES = ("kept", "broken")

Contribution: TypeAlias = "Select[*tuple[Any, ...]]"
"""A query of (invoice_number, amount_minor, item_count) rows, one per invoice."""


@dataclass(frozen=True)
class AgingBucket:
    """Days past due from ``low`` to ``high`` (inclusive; None: unbounded)."""

    key: str
    low: int | None
    high: int | None

    def holds(self, due_on: SQLColumnExpression[date], as_of: date) -> ColumnElement[bool]:
        # Days past due = as_of − due_on, turned into bounds on due_on so no dialect needs
        # date subtraction: dpd ≥ low ⇔ due_on ≤ as_of − low.
        conditions = []
        if self.low is not None:
            conditions.append(due_on <= as_of - timedelta(days=self.low))
        if self.high is not None:
            conditions.append(due_on >= as_of - timedelta(days=self.high))
        return and_(*conditions)


AGING_BUCKETS = (
    AgingBucket("current", None, 0),
    AgingBucket("1-30", 1, 30),
    AgingBucket("31-60", 31, 60),
    AgingBucket("61-90", 61, 90),
    AgingBucket("91-120", 91, 120),
    AgingBucket("120+", 121, None),
)
BUCKETS_BY_KEY = {bucket.key: bucket for bucket in AGING_BUCKETS}


def _sum_since_by_invoice(
    amount: SQLColumnExpression[int],
    invoice: SQLColumnExpression[str],
    *conditions: ColumnElement[bool],
) -> Subquery:
    return (
        select(invoice.label("invoice_number"), func.sum(amount).label("amount"))
        .where(*conditions)
        .group_by(invoice)
        .subquery()
    )


def balances(currency: str, cutoff: date) -> Contribution:
    """Each invoice's open balance at 00:00 UTC of ``cutoff``, rolled back from today's.

    Balance then = today's amount due + applied payments dated from the cutoff on + credit
    notes issued from the cutoff on, capped at the invoice amount (an overpayment is not a
    debt), for invoices issued before the cutoff and not yet closed at it. An invoice closed
    with money still due (written off) stops counting when its ``closed`` event happened.
    With a cutoff after the last payment this is exactly today's open amount due.
    """
    cutoff_at = day_start(cutoff)
    paid = _sum_since_by_invoice(
        Payment.amount_minor,
        Payment.invoice_number,
        Payment.status == "applied",
        Payment.currency == currency,
        Payment.paid_at >= cutoff_at,
    )
    credited = _sum_since_by_invoice(
        CreditNote.amount_minor,
        CreditNote.invoice_number,
        CreditNote.currency == currency,
        CreditNote.issued_on >= cutoff,
    )
    closed = (
        select(Interaction.invoice_number, func.max(Interaction.occurred_at).label("closed_at"))
        .where(Interaction.kind == "closed")
        .group_by(Interaction.invoice_number)
        .subquery()
    )
    rolled_back = (
        Invoice.amount_due_minor
        + func.coalesce(paid.c.amount, 0)
        + func.coalesce(credited.c.amount, 0)
    )
    balance = case((rolled_back > Invoice.amount_minor, Invoice.amount_minor), else_=rolled_back)
    open_at_cutoff = or_(
        Invoice.stage.not_in(CLOSED),
        func.coalesce(closed.c.closed_at, Invoice.updated_at) >= cutoff_at,
    )
    return (
        select(
            Invoice.number.label("invoice_number"),
            balance.label("amount_minor"),
            literal(1).label("item_count"),
        )
        .select_from(Invoice)
        .outerjoin(paid, paid.c.invoice_number == Invoice.number)
        .outerjoin(credited, credited.c.invoice_number == Invoice.number)
        .outerjoin(closed, closed.c.invoice_number == Invoice.number)
        .where(
            Invoice.currency == currency,
            Invoice.stage != NOT_A_SALE,
            Invoice.issued_on < cutoff,
            open_at_cutoff,
            balance > 0,
        )
    )


def closing_balances(window: ReportWindow, bucket: AgingBucket | None = None) -> Contribution:
    """Balances at the end of ``as_of``; with ``bucket``, only those aged into it."""
    query = balances(window.currency, window.closing_day)
    if bucket is not None:
        query = query.where(bucket.holds(Invoice.due_on, window.as_of))
    return query


def aging_key(as_of: date) -> ColumnElement[str]:
    """The aging bucket of an invoice row, as a SQL ``CASE``."""
    return case(
        *((bucket.holds(Invoice.due_on, as_of), bucket.key) for bucket in AGING_BUCKETS),
        else_=AGING_BUCKETS[-1].key,
    )


def opening_balances(window: ReportWindow) -> Contribution:
    """Balances at 00:00 UTC of the period's first day."""
    return balances(window.currency, window.start_day)


def credit_sales(window: ReportWindow) -> Contribution:
    """Invoices issued in the period, at their amount."""
    return select(
        Invoice.number.label("invoice_number"),
        Invoice.amount_minor.label("amount_minor"),
        literal(1).label("item_count"),
    ).where(
        Invoice.currency == window.currency,
        Invoice.stage != NOT_A_SALE,
        Invoice.issued_on >= window.start_day,
        Invoice.issued_on <= window.as_of,
    )


def collected(currency: str, first_day: date, last_day: date) -> Contribution:
    """Applied payments dated from ``first_day`` to ``last_day`` (UTC days, inclusive)."""
    return (
        select(
            Payment.invoice_number.label("invoice_number"),
            func.sum(Payment.amount_minor).label("amount_minor"),
            func.count().label("item_count"),
        )
        .where(
            Payment.status == "applied",
            Payment.currency == currency,
            Payment.paid_at >= day_start(first_day),
            Payment.paid_at < day_start(last_day + timedelta(days=1)),
        )
        .group_by(Payment.invoice_number)
    )


def attributed_payments(window: ReportWindow) -> Subquery:
    """The period's applied payments, each with the last message sent about its invoice in
    the ``contact_days`` before it (channel, step and the invoice's policy), or ``none``."""
    payments = (
        select(
            Payment.id.label("payment_id"),
            Payment.invoice_number.label("invoice_number"),
            Payment.amount_minor.label("amount_minor"),
            Payment.paid_at.label("paid_at"),
        )
        .where(
            Payment.status == "applied",
            Payment.currency == window.currency,
            Payment.paid_at >= window.start_at,
            Payment.paid_at < window.end_at,
        )
        .subquery()
    )
    # Every message in each payment's window, the latest ranked first: a join and a window
    # function, so each payment's messages are read once (a correlated "latest message"
    # subquery ran once per use, and twice per row where it was both joined and tested).
    candidates = (
        select(
            payments.c.invoice_number,
            payments.c.amount_minor,
            Interaction.id.label("message_id"),
            Interaction.channel,
            Interaction.step_id,
            func.row_number()
            .over(
                partition_by=payments.c.payment_id,
                order_by=(Interaction.occurred_at.desc(), Interaction.id.desc()),
            )
            .label("latest"),
        )
        .select_from(payments)
        .outerjoin(
            Interaction,
            and_(
                Interaction.invoice_number == payments.c.invoice_number,
                Interaction.kind == "message_sent",
                Interaction.occurred_at <= payments.c.paid_at,
                Interaction.occurred_at >= days_before(payments.c.paid_at, window.contact_days),
                # Implied by the two above; stated so the database reads only the period's.
                Interaction.occurred_at >= window.start_at - timedelta(days=window.contact_days),
                Interaction.occurred_at < window.end_at,
            ),
        )
        .subquery()
    )
    credited_to_message = candidates.c.message_id.is_not(None)
    return (
        select(
            candidates.c.invoice_number,
            candidates.c.amount_minor,
            func.coalesce(candidates.c.channel, NO_CONTACT).label("channel"),
            case((credited_to_message, Invoice.policy_name), else_=NO_CONTACT).label("policy"),
            func.coalesce(candidates.c.step_id, NO_CONTACT).label("step"),
        )
        .select_from(candidates)
        .outerjoin(Invoice, Invoice.number == candidates.c.invoice_number)
        .where(candidates.c.latest == 1)
        .subquery()
    )


def recovered(
    window: ReportWindow,
    *,
    channel: str | None = None,
    policy: str | None = None,
    step: str | None = None,
) -> Contribution:
    """The period's payments credited to ``channel`` (or to ``policy``'s ``step``)."""
    attributed = attributed_payments(window)
    conditions = []
    if channel is not None:
        conditions.append(attributed.c.channel == channel)
    if policy is not None:
        conditions.append(attributed.c.policy == policy)
    if step is not None:
        conditions.append(attributed.c.step == step)
    return (
        select(
            attributed.c.invoice_number,
            func.sum(attributed.c.amount_minor).label("amount_minor"),
            func.count().label("item_count"),
        )
        .where(*conditions)
        .group_by(attributed.c.invoice_number)
    )


def settled_promises(window: ReportWindow, status: str) -> Contribution:
    """Promises, payment claims and plans settled as ``status`` (kept/broken) in the period."""
    if status not in PROMISE_OUTCOMES:
        raise ValueError(f"a settled promise is kept or broken, not {status!r}")
    return (
        select(
            Promise.invoice_number.label("invoice_number"),
            func.sum(Promise.amount_minor).label("amount_minor"),
            func.count().label("item_count"),
        )
        .where(
            Promise.currency == window.currency,
            Promise.status == status,
            Promise.settled_at >= window.start_at,
            Promise.settled_at < window.end_at,
        )
        .group_by(Promise.invoice_number)
    )


def open_tasks(window: ReportWindow, *, past_sla: bool) -> Contribution:
    """Open collector tasks on invoices in the currency; ``past_sla``: only those whose SLA
    ended before the end of ``as_of``. Counted, not summed: ``amount_minor`` is 0."""
    conditions = [Task.status == "open", Invoice.currency == window.currency]
    if past_sla:
        conditions.append(Task.sla_due_at < window.end_at)
    return (
        select(
            Task.invoice_number.label("invoice_number"),
            literal(0).label("amount_minor"),
            func.count().label("item_count"),
        )
        .join(Invoice, Invoice.number == Task.invoice_number)
        .where(*conditions)
        .group_by(Task.invoice_number)
    )


def _live_in_week(window: ReportWindow) -> ColumnElement[bool]:
    """A promise (or plan) that was in force at some moment of the week."""
    return and_(
        Promise.made_at < day_start(window.week_end + timedelta(days=1)),
        or_(Promise.status == "open", Promise.settled_at >= day_start(window.week_start)),
    )


def promised_this_week(window: ReportWindow) -> Contribution:
    """Promises and payment claims falling due in the week, and plan instalments due in it,
    that were in force during the week, at their amounts (one that was kept still counts:
    the forecast is what was expected, not what is left)."""
    week_start_at = day_start(window.week_start)
    week_end_at = day_start(window.week_end + timedelta(days=1))
    promises = select(
        Promise.invoice_number.label("invoice_number"),
        Promise.amount_minor.label("amount_minor"),
    ).where(
        Promise.currency == window.currency,
        Promise.kind != "plan",
        Promise.promised_date >= window.week_start,
        Promise.promised_date <= window.week_end,
        _live_in_week(window),
    )
    instalments = (
        select(
            PaymentPlan.invoice_number.label("invoice_number"),
            PlanInstalment.amount_minor.label("amount_minor"),
        )
        .join(PaymentPlan, PaymentPlan.id == PlanInstalment.plan_id)
        .where(
            PaymentPlan.currency == window.currency,
            PaymentPlan.agreed_at.is_not(None),
            PaymentPlan.agreed_at < week_end_at,
            or_(PaymentPlan.settled_at.is_(None), PaymentPlan.settled_at >= week_start_at),
            PlanInstalment.due_on >= window.week_start,
            PlanInstalment.due_on <= window.week_end,
            or_(PlanInstalment.paid_at.is_(None), PlanInstalment.paid_at >= week_start_at),
        )
    )
    commitments = union_all(promises, instalments).subquery()
    return select(
        commitments.c.invoice_number,
        func.sum(commitments.c.amount_minor).label("amount_minor"),
        func.count().label("item_count"),
    ).group_by(commitments.c.invoice_number)


def due_this_week(window: ReportWindow) -> Contribution:
    """Invoices falling due in the week with no promise or plan in force during it, at their
    balance on Monday 00:00 UTC (unweighted: the dashboard applies the on-time share)."""
    committed = exists(
        select(Promise.id).where(Promise.invoice_number == Invoice.number, _live_in_week(window))
    )
    return balances(window.currency, window.week_start).where(
        Invoice.due_on >= window.week_start,
        Invoice.due_on <= window.week_end,
        ~committed,
    )
