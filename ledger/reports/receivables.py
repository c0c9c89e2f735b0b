"""KPIs of the receivables themselves: DSO (three methods), best possible DSO, CEI, aging.

Balances at an instant follow docs/KPIS.md ("Balance at an instant"); ``ar_snapshots`` takes
several instants in one pass over the invoices, so an average over month-ends costs one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import BigInteger, ColumnElement, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from ledger.models import CreditNote, Customer, Interaction, Invoice, Payment
from ledger.reports import contributions as c
from ledger.reports.dashboard import total_of
from ledger.reports.period import HUNDRED, Cell, KpiPeriod, KpiReport, one_decimal, ratio
from ledger.reports.sql import year_month
from ledger.reports.window import day_start

AGING_GROUPS = ("segment", "customer")


@dataclass(frozen=True)
class Snapshot:
    """Total AR at 00:00 UTC of ``day`` and how many invoices hold it."""

    day: date
    minor: int
    invoices: int


def _bigint_sum(amount: ColumnElement[int]) -> ColumnElement[int]:
    # PostgreSQL's SUM of a bigint is a numeric: cast back, or every sum, comparison and CASE
    # built on it per invoice runs in (slow) arbitrary-precision arithmetic.
    return cast(func.sum(amount), BigInteger)


def ar_snapshots(
    session: Session, currency: str, days: Sequence[date], *, not_due_from: date
) -> tuple[list[Snapshot], int]:
    """Total AR at 00:00 UTC of each of ``days``, and the current (not yet due:
    ``due_on ≥ not_due_from``) part of the last one's — all in one query."""
    instants = [day_start(day) for day in days]
    paid = (
        select(
            Payment.invoice_number.label("invoice_number"),
            *(
                _bigint_sum(case((Payment.paid_at >= at, Payment.amount_minor), else_=0)).label(
                    f"since_{index}"
                )
                for index, at in enumerate(instants)
            ),
        )
        .where(
            Payment.status == "applied",
            Payment.currency == currency,
            Payment.paid_at >= min(instants),
        )
        .group_by(Payment.invoice_number)
        .subquery()
    )
    credited = (
        select(
            CreditNote.invoice_number.label("invoice_number"),
            *(
                _bigint_sum(
                    case((CreditNote.issued_on >= day, CreditNote.amount_minor), else_=0)
                ).label(f"since_{index}")
                for index, day in enumerate(days)
            ),
        )
        .where(CreditNote.currency == currency, CreditNote.issued_on >= min(days))
        .group_by(CreditNote.invoice_number)
        .subquery()
    )
    closed = (
        select(Interaction.invoice_number, func.max(Interaction.occurred_at).label("closed_at"))
        .where(Interaction.kind == "closed")
        .group_by(Interaction.invoice_number)
        .subquery()
    )
    closed_at = func.coalesce(closed.c.closed_at, Invoice.updated_at)
    columns: list[ColumnElement[int]] = []
    holds: ColumnElement[bool] | None = None
    capped: ColumnElement[int] | None = None
    for index, (day, at) in enumerate(zip(days, instants, strict=True)):
        rolled = (
            Invoice.amount_due_minor
            + func.coalesce(paid.c[f"since_{index}"], 0)
            + func.coalesce(credited.c[f"since_{index}"], 0)
        )
        capped = case((rolled > Invoice.amount_minor, Invoice.amount_minor), else_=rolled)
        holds = and_(
            Invoice.issued_on < day,
            or_(Invoice.stage.not_in(c.CLOSED), closed_at >= at),
            capped > 0,
        )
        columns.append(func.coalesce(func.sum(case((holds, capped), else_=0)), 0))
        columns.append(func.coalesce(func.sum(case((holds, 1), else_=0)), 0))
    assert holds is not None and capped is not None, "at least one day"
    current = and_(holds, Invoice.due_on >= not_due_from)
    columns.append(func.coalesce(func.sum(case((current, capped), else_=0)), 0))
    row = session.execute(
        select(*columns)
        .select_from(Invoice)
        .outerjoin(paid, paid.c.invoice_number == Invoice.number)
        .outerjoin(credited, credited.c.invoice_number == Invoice.number)
        .outerjoin(closed, closed.c.invoice_number == Invoice.number)
        .where(
            Invoice.currency == currency,
            Invoice.stage != c.NOT_A_SALE,
            Invoice.issued_on < max(days),
            or_(Invoice.stage.not_in(c.CLOSED), closed_at >= min(instants)),
        )
    ).one()
    values = [int(value) for value in row]
    snapshots = [
        Snapshot(day, values[2 * index], values[2 * index + 1]) for index, day in enumerate(days)
    ]
    return snapshots, values[-1]


def monthly_sales(session: Session, currency: str, through: date) -> dict[str, int]:
    """Credit sales by calendar month (``YYYY-MM``), of invoices issued up to ``through``."""
    month = year_month(Invoice.issued_on)
    rows = session.execute(
        select(month, func.sum(Invoice.amount_minor))
        .where(
            Invoice.currency == currency,
            Invoice.stage != c.NOT_A_SALE,
            Invoice.issued_on <= through,
        )
        .group_by(month)
    ).all()
    return {str(key): int(amount) for key, amount in rows}


def _month_start(day: date) -> date:
    return day.replace(day=1)


def countback_days(closing_ar: int, sales: dict[str, int], end: date) -> tuple[Decimal, list[str]]:
    """The countback walk: from the month of ``end`` (its days up to ``end``) backwards, take
    off each month's sales and add its days, until the AR left is less than a month's
    sales; that month adds (AR left ÷ its sales) × its days. Returns days and the steps."""
    remaining = Decimal(closing_ar)
    days = Decimal(0)
    steps: list[str] = []
    earliest = min(sales, default=f"{end:%Y-%m}")
    last_day = end
    while remaining > 0:
        first_day = _month_start(last_day)
        key = f"{first_day:%Y-%m}"
        if key < earliest:
            break
        month_days = (last_day - first_day).days + 1
        month_sales = sales.get(key, 0)
        if month_sales and remaining < month_sales:
            part = remaining / month_sales * month_days
            steps.append(f"{key}: {remaining} ÷ {month_sales} × {month_days} = {one_decimal(part)}")
            days += part
            remaining = Decimal(0)
            break
        steps.append(f"{key}: sales {month_sales}, +{month_days} days")
        remaining -= month_sales
        days += month_days
        last_day = first_day - timedelta(days=1)
    return one_decimal(days), steps


def month_end_days(period: KpiPeriod) -> list[date]:
    """The instants averaged by the average method, as the days they open: the period's
    start, the day after each month-end inside it, and the day after its last day."""
    days = [period.start]
    month = _month_start(period.start)
    while True:
        month = (month + timedelta(days=32)).replace(day=1)
        if month > period.end:
            break
        days.append(month)
    closing = period.end + timedelta(days=1)
    if days[-1] != closing:
        days.append(closing)
    return days


def dso(session: Session, period: KpiPeriod) -> KpiReport:
    sales = total_of(session, c.credit_sales(period.window), period.currency).minor
    points = month_end_days(period)
    snapshots, current_ar = ar_snapshots(session, period.currency, points, not_due_from=period.end)
    closing_ar = snapshots[-1].minor
    average_ar = Decimal(sum(s.minor for s in snapshots)) / len(snapshots)
    simple = ratio(closing_ar * period.days, sales)
    average = ratio(average_ar * period.days, sales)
    countback: Decimal | None
    countback, steps = countback_days(
        closing_ar, monthly_sales(session, period.currency, period.end), period.end
    )
    if not sales and not closing_ar:
        countback = None
    best = ratio(current_ar * period.days, sales)

    def delinquent(days: Decimal | None) -> Decimal | None:
        return None if days is None or best is None else days - best

    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (method, days, best, delinquent(days))
        for method, days in (("simple", simple), ("average", average), ("countback", countback))
    )
    return KpiReport(
        name="dso",
        title="Days sales outstanding",
        period=period,
        figure=simple,
        unit="days",
        formula=(
            "simple = closing AR ÷ credit sales × days; average = mean AR (opening and each "
            "month-end) ÷ credit sales × days; countback = walk back month by month from "
            "closing AR; best possible = current AR ÷ credit sales × days; "
            "average days delinquent = DSO − best possible DSO"
        ),
        inputs={
            "days": period.days,
            "credit_sales": period.money(sales),
            "closing_ar": period.money(closing_ar),
            "current_ar": period.money(current_ar),
            "average_ar": period.money(int(one_decimal(average_ar).to_integral_value())),
            "ar_points": ", ".join(
                f"{s.day.isoformat()} 00:00 {period.money(s.minor)}" for s in snapshots
            ),
        },
        columns=("method", "dso_days", "best_possible_dso_days", "average_days_delinquent"),
        rows=rows,
        notes=tuple(f"countback {step}" for step in steps),
    )


def cei(session: Session, period: KpiPeriod) -> KpiReport:
    sales = total_of(session, c.credit_sales(period.window), period.currency).minor
    (opening, closing), current_ar = ar_snapshots(
        session,
        period.currency,
        [period.start, period.end + timedelta(days=1)],
        not_due_from=period.end,
    )
    collectable = opening.minor + sales
    figure = ratio((collectable - closing.minor) * HUNDRED, collectable - current_ar)
    return KpiReport(
        name="cei",
        title="Collection effectiveness index",
        period=period,
        figure=figure,
        unit="percent",
        formula=(
            "(opening AR + credit sales − closing total AR) ÷ "
            "(opening AR + credit sales − closing current AR) × 100"
        ),
        inputs={
            "opening_ar": period.money(opening.minor),
            "credit_sales": period.money(sales),
            "closing_ar": period.money(closing.minor),
            "closing_current_ar": period.money(current_ar),
        },
        columns=("opening_ar", "credit_sales", "closing_ar", "closing_current_ar", "cei_percent"),
        rows=(
            (
                period.money(opening.minor),
                period.money(sales),
                period.money(closing.minor),
                period.money(current_ar),
                figure,
            ),
        ),
    )


def aging(session: Session, period: KpiPeriod, by: str | None = None) -> KpiReport:
    if by is not None and by not in AGING_GROUPS:
        raise ValueError(f"by must be one of {', '.join(AGING_GROUPS)}, not {by!r}")
    query = c.closing_balances(period.window).add_columns(c.aging_key(period.end).label("bucket"))
    if by == "segment":
        query = query.add_columns(Invoice.segment.label("grouping"))
    elif by == "customer":
        query = query.join(Customer, Customer.id == Invoice.customer_id).add_columns(
            (Customer.id + " " + Customer.name).label("grouping")
        )
    rows_in = query.subquery()
    grouping = rows_in.c.grouping if by is not None else None
    total = func.sum(rows_in.c.amount_minor)
    per_bucket = [
        func.coalesce(
            func.sum(case((rows_in.c.bucket == bucket.key, rows_in.c.amount_minor), else_=0)), 0
        )
        for bucket in c.AGING_BUCKETS
    ]
    select_columns = [*per_bucket, total, func.count()]
    if grouping is not None:
        statement = (
            select(grouping, *select_columns).group_by(grouping).order_by(total.desc(), grouping)
        )
    else:
        statement = select(*select_columns).having(func.count() > 0)
    found = session.execute(statement).all()
    rows: list[tuple[Cell, ...]] = []
    grand_total = 0
    for row in found:
        values = [int(value) for value in row[-len(select_columns) :]]
        label = str(row[0]) if grouping is not None else "all"
        grand_total += values[-2]
        rows.append((label, *(period.money(v) for v in values[:-1]), values[-1]))
    return KpiReport(
        name="aging",
        title="Aging of receivables",
        period=period,
        figure=period.money(grand_total),
        unit=period.currency,
        formula=(
            "balances at the end of --to by days past due (--to − due date): current ≤ 0, "
            "1–30, 31–60, 61–90, 91–120, 120+"
        ),
        inputs={"as_of": period.end.isoformat(), "by": by or "all"},
        columns=(by or "all", *(b.key for b in c.AGING_BUCKETS), "total", "invoices"),
        rows=tuple(rows),
    )
