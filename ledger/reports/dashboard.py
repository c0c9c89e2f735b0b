"""The operations dashboard's figures: collection KPIs for one currency, as of one day.

Every figure is a SQL aggregate over a query of ``ledger.reports.contributions``, the same
query the drill-down list shows, so a figure and the invoices behind it always agree.
The formulas, with worked examples, are in docs/KPIS.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dunning_policies.money import from_minor
from ledger.models import CreditNote, Invoice, Payment
from ledger.reports import contributions as c
from ledger.reports.contributions import Contribution
from ledger.reports.sql import utc_date
from ledger.reports.window import ReportWindow

ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Total:
    """A sum of money and how many invoices (or payments, promises, tasks) make it."""

    minor: int
    count: int
    currency: str

    @property
    def amount(self) -> Decimal:
        return from_minor(self.minor, self.currency)


@dataclass(frozen=True)
class AgingLine:
    bucket: str
    invoices: Total


@dataclass(frozen=True)
class ChannelRecovery:
    channel: str
    """A channel name, or ``none``: no message in the contact window before the payment."""
    payments: Total


@dataclass(frozen=True)
class StepRecovery:
    policy: str
    step: str
    """Both ``none`` for payments no message preceded."""
    payments: Total


@dataclass(frozen=True)
class WeekCash:
    """Collected in as_of's week (Monday to Sunday) against a plain baseline forecast."""

    week_start: date
    week_end: date
    collected: Total
    promised: Total
    """Promises and plan instalments falling due in the week, in force during it."""
    due: Total
    """Balances on Monday of the other invoices falling due in the week, unweighted."""
    on_time_share: Decimal | None
    """Of the invoices due in the period, the fraction paid by their due date (0–1)."""
    expected_from_due: Total
    """``due`` × ``on_time_share``, rounded half-even to the minor unit (0 with no history)."""

    @property
    def forecast(self) -> Total:
        return Total(
            self.promised.minor + self.expected_from_due.minor,
            self.promised.count + self.due.count,
            self.promised.currency,
        )


@dataclass(frozen=True)
class PromiseOutcomes:
    kept: Total
    broken: Total

    @property
    def rate(self) -> Decimal | None:
        """kept ÷ (kept + broken) × 100, one decimal; None while none was settled."""
        settled = self.kept.count + self.broken.count
        if not settled:
            return None
        return _one_decimal(Decimal(self.kept.count) * HUNDRED / settled)


@dataclass(frozen=True)
class TaskLoad:
    open: int
    past_sla: int


@dataclass(frozen=True)
class DashboardFigures:
    as_of: date
    currency: str
    period_days: int
    period_start: date
    contact_days: int
    total_ar: Total
    current_ar: Total
    opening_ar: Total
    credit_sales: Total
    dso: Decimal | None
    """Days; None without credit sales in the period."""
    best_possible_dso: Decimal | None
    average_days_delinquent: Decimal | None
    """DSO − best possible DSO, both as shown (one decimal)."""
    cei: Decimal | None
    """Percent; None when its denominator is zero."""
    aging: tuple[AgingLine, ...]
    week: WeekCash
    recovered: Total
    by_channel: tuple[ChannelRecovery, ...]
    by_step: tuple[StepRecovery, ...]
    promises: PromiseOutcomes
    tasks: TaskLoad


def _one_decimal(value: Decimal) -> Decimal:
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_EVEN)


def _days(numerator: int, sales: int, period_days: int) -> Decimal | None:
    if sales <= 0:
        return None
    return _one_decimal(Decimal(numerator) * period_days / Decimal(sales))


def total_of(session: Session, contribution: Contribution, currency: str) -> Total:
    """SUM(amount_minor) and SUM(item_count) over a contribution query."""
    rows = contribution.subquery()
    amount, count = session.execute(
        select(
            func.coalesce(func.sum(rows.c.amount_minor), 0),
            func.coalesce(func.sum(rows.c.item_count), 0),
        )
    ).one()
    return Total(int(amount), int(count), currency)


def _aging(session: Session, window: ReportWindow) -> tuple[AgingLine, ...]:
    rows = c.closing_balances(window).add_columns(c.aging_key(window.as_of).label("bucket"))
    closing = rows.subquery()
    found = {
        bucket: (int(amount), int(count))
        for bucket, amount, count in session.execute(
            select(closing.c.bucket, func.sum(closing.c.amount_minor), func.count()).group_by(
                closing.c.bucket
            )
        ).all()
    }
    return tuple(
        AgingLine(bucket.key, Total(*found.get(bucket.key, (0, 0)), window.currency))
        for bucket in c.AGING_BUCKETS
    )


def _on_time_share(session: Session, window: ReportWindow) -> Decimal | None:
    """Of the invoices due in the period, the share whose payments (dated by the due day,
    UTC) and credit notes (issued by it) covered their amount."""
    paid_by_due = (
        select(func.coalesce(func.sum(Payment.amount_minor), 0))
        .where(
            Payment.invoice_number == Invoice.number,
            Payment.status == "applied",
            Payment.currency == window.currency,
            utc_date(Payment.paid_at) <= Invoice.due_on,
        )
        .correlate(Invoice)
        .scalar_subquery()
    )
    credited_by_due = (
        select(func.coalesce(func.sum(CreditNote.amount_minor), 0))
        .where(
            CreditNote.invoice_number == Invoice.number,
            CreditNote.currency == window.currency,
            CreditNote.issued_on <= Invoice.due_on,
        )
        .correlate(Invoice)
        .scalar_subquery()
    )
    on_time = case((paid_by_due + credited_by_due >= Invoice.amount_minor, 1), else_=0)
    due, paid = session.execute(
        select(func.count(), func.coalesce(func.sum(on_time), 0)).where(
            Invoice.currency == window.currency,
            Invoice.stage != c.NOT_A_SALE,
            Invoice.due_on >= window.start_day,
            Invoice.due_on <= window.as_of,
        )
    ).one()
    if not due:
        return None
    return Decimal(int(paid)) / Decimal(int(due))


def _week(session: Session, window: ReportWindow) -> WeekCash:
    currency = window.currency
    due = total_of(session, c.due_this_week(window), currency)
    share = _on_time_share(session, window)
    expected = 0
    if share is not None:
        expected = int((due.minor * share).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    return WeekCash(
        week_start=window.week_start,
        week_end=window.week_end,
        collected=total_of(
            session, c.collected(currency, window.week_start, window.week_end), currency
        ),
        promised=total_of(session, c.promised_this_week(window), currency),
        due=due,
        on_time_share=share,
        expected_from_due=Total(expected, due.count, currency),
    )


def _recovery(
    session: Session, window: ReportWindow
) -> tuple[tuple[ChannelRecovery, ...], tuple[StepRecovery, ...]]:
    attributed = c.attributed_payments(window)
    amount = func.sum(attributed.c.amount_minor)
    by_channel = session.execute(
        select(attributed.c.channel, amount, func.count())
        .group_by(attributed.c.channel)
        .order_by(amount.desc(), attributed.c.channel)
    ).all()
    by_step = session.execute(
        select(attributed.c.policy, attributed.c.step, amount, func.count())
        .group_by(attributed.c.policy, attributed.c.step)
        .order_by(amount.desc(), attributed.c.policy, attributed.c.step)
    ).all()
    currency = window.currency
    return (
        tuple(
            ChannelRecovery(channel, Total(int(total), int(count), currency))
            for channel, total, count in by_channel
        ),
        tuple(
            StepRecovery(policy, step, Total(int(total), int(count), currency))
            for policy, step, total, count in by_step
        ),
    )


def dashboard_figures(
    session: Session,
    *,
    as_of: date,
    currency: str,
    period_days: int = 90,
    contact_days: int = 7,
) -> DashboardFigures:
    """The dashboard for ``currency`` over the ``period_days`` days ending with ``as_of``."""
    window = ReportWindow(as_of, currency.upper(), period_days, contact_days)
    currency = window.currency
    total_ar = total_of(session, c.closing_balances(window), currency)
    current_ar = total_of(
        session, c.closing_balances(window, c.BUCKETS_BY_KEY["current"]), currency
    )
    opening_ar = total_of(session, c.opening_balances(window), currency)
    sales = total_of(session, c.credit_sales(window), currency)
    dso = _days(total_ar.minor, sales.minor, period_days)
    best = _days(current_ar.minor, sales.minor, period_days)
    collectable = opening_ar.minor + sales.minor
    denominator = collectable - current_ar.minor
    cei = (
        _one_decimal(Decimal(collectable - total_ar.minor) * HUNDRED / denominator)
        if denominator > 0
        else None
    )
    by_channel, by_step = _recovery(session, window)
    return DashboardFigures(
        as_of=as_of,
        currency=currency,
        period_days=period_days,
        period_start=window.start_day,
        contact_days=contact_days,
        total_ar=total_ar,
        current_ar=current_ar,
        opening_ar=opening_ar,
        credit_sales=sales,
        dso=dso,
        best_possible_dso=best,
        average_days_delinquent=dso - best if dso is not None and best is not None else None,
        cei=cei,
        aging=_aging(session, window),
        week=_week(session, window),
        recovered=Total(
            sum(line.payments.minor for line in by_channel),
            sum(line.payments.count for line in by_channel),
            currency,
        ),
        by_channel=by_channel,
        by_step=by_step,
        promises=PromiseOutcomes(
            kept=total_of(session, c.settled_promises(window, "kept"), currency),
            broken=total_of(session, c.settled_promises(window, "broken"), currency),
        ),
        tasks=TaskLoad(
            open=total_of(session, c.open_tasks(window, past_sla=False), currency).count,
            past_sla=total_of(session, c.open_tasks(window, past_sla=True), currency).count,
        ),
    )


def currencies_in_use(session: Session) -> list[str]:
    """The invoices' currencies, the most common first."""
    count = func.count()
    return list(
        session.scalars(
            select(Invoice.currency)
            .group_by(Invoice.currency)
            .order_by(count.desc(), Invoice.currency)
        )
    )
