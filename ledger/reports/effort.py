"""KPIs of the collection effort: promises kept, recovery, time to pay and the at-risk rate.

Each is a handful of SQL aggregates; Python only divides the totals (and reads percentiles
off a histogram of whole days, which has at most a few hundred rows).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, case, func, or_, select
from sqlalchemy.orm import Session

from ledger.models import CreditNote, Interaction, Invoice, Payment, Promise
from ledger.reports import contributions as c
from ledger.reports.dashboard import total_of
from ledger.reports.period import HUNDRED, KpiPeriod, KpiReport, one_decimal, ratio
from ledger.reports.receivables import ar_snapshots
from ledger.reports.sql import days_between, utc_date

AT_RISK_DAYS = 90


def promise_kept(session: Session, period: KpiPeriod) -> KpiReport:
    """Promises (and payment claims, and plans) falling due in the period, and those paid in
    full by their date: applied payments on the invoice dated (UTC) up to the promised date —
    from the moment the promise was made, except a payment claim, which may point back."""
    counts = or_(Promise.kind == "payment_claim", Payment.paid_at >= Promise.made_at)
    paid_by_date = (
        select(
            Promise.id,
            Promise.kind,
            Promise.amount_minor,
            func.coalesce(func.sum(Payment.amount_minor), 0).label("paid"),
        )
        .select_from(Promise)
        .outerjoin(
            Payment,
            and_(
                Payment.invoice_number == Promise.invoice_number,
                Payment.status == "applied",
                Payment.currency == Promise.currency,
                utc_date(Payment.paid_at) <= Promise.promised_date,
                counts,
            ),
        )
        .where(
            Promise.currency == period.currency,
            Promise.status != "superseded",
            Promise.promised_date >= period.start,
            Promise.promised_date <= period.end,
        )
        .group_by(Promise.id, Promise.kind, Promise.amount_minor)
        .subquery()
    )
    kept = case((paid_by_date.c.paid >= paid_by_date.c.amount_minor, 1), else_=0)
    found = session.execute(
        select(
            paid_by_date.c.kind, func.count(), func.sum(kept), func.sum(paid_by_date.c.amount_minor)
        )
        .group_by(paid_by_date.c.kind)
        .order_by(paid_by_date.c.kind)
    ).all()
    rows = [
        (str(kind), int(due), int(met), period.money(int(amount)))
        for kind, due, met, amount in found
    ]
    due_total = sum(row[1] for row in rows)
    kept_total = sum(row[2] for row in rows)
    figure = ratio(kept_total * HUNDRED, due_total)
    return KpiReport(
        name="promise-kept",
        title="Promise-kept rate",
        period=period,
        figure=figure,
        unit="percent",
        formula="promises paid in full by the promised date ÷ promises falling due in the "
        "period × 100 (superseded ones count for neither)",
        inputs={"falling_due": due_total, "kept": kept_total},
        columns=("kind", "falling_due", "kept", "promised", "kept_percent"),
        rows=tuple(
            (kind, due, met, amount, ratio(met * HUNDRED, due)) for kind, due, met, amount in rows
        ),
    )


def recovery(session: Session, period: KpiPeriod) -> KpiReport:
    """Collected ÷ (opening AR + credit sales) × 100, split by channel and by policy step
    (each payment credited to the last message sent in the ``contact_days`` before it)."""
    window = period.window
    sales = total_of(session, c.credit_sales(window), period.currency).minor
    (opening,), _ = ar_snapshots(session, period.currency, [period.start], not_due_from=period.end)
    outstanding = opening.minor + sales
    attributed = c.attributed_payments(window)
    # One pass over the attributed payments; both breakdowns are sums of its few rows.
    by_channel: dict[str, list[int]] = {}
    by_step: dict[str, list[int]] = {}
    for channel, policy, step, count, total in session.execute(
        select(
            attributed.c.channel,
            attributed.c.policy,
            attributed.c.step,
            func.count(),
            func.sum(attributed.c.amount_minor),
        ).group_by(attributed.c.channel, attributed.c.policy, attributed.c.step)
    ).all():
        for totals, key in ((by_channel, str(channel)), (by_step, f"{policy} · {step}")):
            line = totals.setdefault(key, [0, 0])
            line[0] += int(count)
            line[1] += int(total)
    found = [
        (by, key, count, total)
        for by, totals in (("channel", by_channel), ("step", by_step))
        for key, (count, total) in totals.items()
    ]
    found.sort(key=lambda row: (row[0], -row[3], row[1]))
    collected = sum(total for by, _, _, total in found if by == "channel")
    payments = sum(count for by, _, count, _ in found if by == "channel")
    return KpiReport(
        name="recovery",
        title="Recovery rate",
        period=period,
        figure=ratio(collected * HUNDRED, outstanding),
        unit="percent",
        formula="collected ÷ (opening AR + credit sales) × 100; each payment credited to the "
        f"last message sent in the {period.contact_days} days before it, else to none",
        inputs={
            "collected": period.money(collected),
            "payments": payments,
            "opening_ar": period.money(opening.minor),
            "credit_sales": period.money(sales),
            "outstanding": period.money(outstanding),
        },
        columns=("by", "key", "payments", "collected", "share_percent", "recovery_percent"),
        rows=tuple(
            (
                by,
                key,
                count,
                period.money(total),
                ratio(total * HUNDRED, collected),
                ratio(total * HUNDRED, outstanding),
            )
            for by, key, count, total in found
        ),
    )


def _nearest_rank(histogram: list[tuple[int, int]], rank: int) -> int:
    """The value at 1-based ``rank`` of a sorted (value, count) histogram."""
    seen = 0
    for value, count in histogram:
        seen += count
        if seen >= rank:
            return value
    raise ValueError(f"rank {rank} beyond {seen} observations")


def time_to_pay(session: Session, period: KpiPeriod) -> KpiReport:
    """Whole UTC days from an invoice's first message sent to the payment that closed it, for
    invoices paid in full whose closing (last applied) payment is dated in the period."""
    # The closing payment is the last one; it falls in the period when the last payment dated
    # from the period's start on is before its end — so only those payments are read.
    closing = (
        select(Payment.invoice_number, func.max(Payment.paid_at).label("paid_at"))
        .where(
            Payment.status == "applied",
            Payment.currency == period.currency,
            Payment.paid_at >= period.start_at,
        )
        .group_by(Payment.invoice_number)
        .having(func.max(Payment.paid_at) < period.end_at)
        .subquery()
    )
    # One index probe per paid invoice (interactions' kind, invoice_number, occurred_at); None
    # when no message preceded the payment, a group the histogram leaves out.
    first_contact = (
        select(func.min(Interaction.occurred_at))
        .where(
            Interaction.kind == "message_sent",
            Interaction.invoice_number == closing.c.invoice_number,
            Interaction.occurred_at <= closing.c.paid_at,
        )
        .scalar_subquery()
    )
    per_invoice = (
        select(days_between(utc_date(closing.c.paid_at), utc_date(first_contact)).label("days"))
        .select_from(Invoice)
        .join(closing, closing.c.invoice_number == Invoice.number)
        .where(Invoice.currency == period.currency, Invoice.stage == "paid")
        .subquery()
    )
    histogram = [
        (int(value), int(count))
        for value, count in session.execute(
            select(per_invoice.c.days, func.count())
            .group_by(per_invoice.c.days)
            .order_by(per_invoice.c.days)
        ).all()
        if value is not None
    ]
    n = sum(count for _, count in histogram)
    median = mean = p90 = None
    if n:
        low, high = _nearest_rank(histogram, (n + 1) // 2), _nearest_rank(histogram, n // 2 + 1)
        median = one_decimal(Decimal(low + high) / 2) if n % 2 == 0 else Decimal(low)
        mean = one_decimal(Decimal(sum(value * count for value, count in histogram)) / n)
        p90 = Decimal(_nearest_rank(histogram, math.ceil(Decimal("0.9") * n)))
    return KpiReport(
        name="time-to-pay",
        title="Time to pay after first contact",
        period=period,
        figure=median,
        unit="days",
        formula="days from the first message sent to the payment that closed the invoice "
        "(UTC dates); median (mean of the two middle values for an even count), mean, "
        "p90 (nearest rank: the ⌈0.9·n⌉-th smallest)",
        inputs={"invoices": n},
        columns=("invoices", "median_days", "mean_days", "p90_days"),
        rows=((n, median, mean, p90),),
    )


def at_risk(session: Session, period: KpiPeriod) -> KpiReport:
    """Invoices issued in the period that reached 90 days past due by the end of it: by the
    00:00 UTC of due + 90 days (no later than the end of the period), their applied payments
    and credit notes had not covered their amount. A write-off does not cover it."""

    def covered_before_day_90(
        amount: SQLColumnExpression[int], dated: SQLColumnExpression[date]
    ) -> ColumnElement[int]:
        return func.coalesce(
            func.sum(case((days_between(dated, Invoice.due_on) < AT_RISK_DAYS, amount), else_=0)),
            0,
        )

    paid = (
        select(
            Invoice.number.label("invoice_number"),
            covered_before_day_90(Payment.amount_minor, utc_date(Payment.paid_at)).label("amount"),
        )
        .join(Payment, Payment.invoice_number == Invoice.number)
        .where(
            Invoice.currency == period.currency,
            Invoice.issued_on >= period.start,
            Invoice.issued_on <= period.end,
            Payment.status == "applied",
            Payment.currency == period.currency,
        )
        .group_by(Invoice.number)
        .subquery()
    )
    credited = (
        select(
            Invoice.number.label("invoice_number"),
            covered_before_day_90(CreditNote.amount_minor, CreditNote.issued_on).label("amount"),
        )
        .join(CreditNote, CreditNote.invoice_number == Invoice.number)
        .where(
            Invoice.currency == period.currency,
            Invoice.issued_on >= period.start,
            Invoice.issued_on <= period.end,
        )
        .group_by(Invoice.number)
        .subquery()
    )
    matured = Invoice.due_on <= period.end - timedelta(days=AT_RISK_DAYS)
    covered = func.coalesce(paid.c.amount, 0) + func.coalesce(credited.c.amount, 0)
    reached = and_(matured, covered < Invoice.amount_minor)
    issued, issued_amount, ripe, hit, hit_amount = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Invoice.amount_minor), 0),
            func.coalesce(func.sum(case((matured, 1), else_=0)), 0),
            func.coalesce(func.sum(case((reached, 1), else_=0)), 0),
            func.coalesce(func.sum(case((reached, Invoice.amount_minor), else_=0)), 0),
        )
        .select_from(Invoice)
        .outerjoin(paid, paid.c.invoice_number == Invoice.number)
        .outerjoin(credited, credited.c.invoice_number == Invoice.number)
        .where(
            Invoice.currency == period.currency,
            Invoice.stage != c.NOT_A_SALE,
            Invoice.amount_minor > 0,
            Invoice.issued_on >= period.start,
            Invoice.issued_on <= period.end,
        )
    ).one()
    issued, ripe, hit = int(issued), int(ripe), int(hit)
    figure = ratio(hit * HUNDRED, issued)
    return KpiReport(
        name="at-risk",
        title="At-risk rate (90+ days past due)",
        period=period,
        figure=figure,
        unit="percent",
        formula="invoices issued in the period not covered by payments and credit notes before "
        "due date + 90 days (by the end of the period) ÷ invoices issued in the period × 100",
        inputs={
            "issued": issued,
            "issued_amount": period.money(int(issued_amount)),
            "matured": ripe,
            "reached_90": hit,
        },
        columns=(
            "issued",
            "matured",
            "reached_90",
            "reached_amount",
            "rate_percent",
            "matured_rate_percent",
        ),
        rows=(
            (issued, ripe, hit, period.money(int(hit_amount)), figure, ratio(hit * HUNDRED, ripe)),
        ),
        notes=(
            f"matured: due by {period.end - timedelta(days=AT_RISK_DAYS)}, so day 90 past due "
            "fell inside the period; the others cannot have reached it yet",
        ),
    )
