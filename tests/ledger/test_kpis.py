"""Every KPI of ``dunning report`` on a small book computed by hand, on SQLite and PostgreSQL.

The book (CLP unless said; the period is 2026-09-01 to 2026-11-30, 91 days):

| inv | cust | issued | due   | amount    | stage     | due today | what happened                |
| --- | ---- | ------ | ----- | --------- | --------- | --------- | ---------------------------- |
| F   | C-1  | 06-01  | 07-01 | 500,000   | handoff   | 500,000   | —                            |
| I   | C-1  | 07-01  | 07-31 | 200,000   | paid      | 0         | paid 10-29 10:00 (day 90)    |
| J   | C-1  | 07-15  | 08-14 | 250,000   | paid      | 0         | paid 08-20 10:00             |
| A   | C-1  | 08-01  | 08-31 | 1,000,000 | overdue   | 400,000   | paid 600,000 09-10 10:00     |
| B   | C-1  | 09-05  | 10-05 | 600,000   | paid      | 0         | paid 10-20 10:00             |
| C   | C-1  | 10-10  | 11-09 | 900,000   | overdue   | 800,000   | credit note 100,000 on 11-15 |
| D   | C-2  | 11-05  | 12-05 | 300,000   | current   | 300,000   | —                            |
| E   | C-2  | 11-20  | 12-20 | 200,000   | current   | 100,000   | paid 100,000 11-25 10:00     |
| H   | C-1  | 10-01  | 10-31 | 700,000   | cancelled | 700,000   | never a sale                 |
| U   | C-1  | 09-10  | 10-10 | 500.00    | overdue   | 500.00    | in USD                       |

C also has 50,000 *unapplied*, which counts nowhere. D and E are segment ``enterprise``, the
rest ``smb``. I, J and B have a ``closed`` event at their payment.

Balances (docs/KPIS.md "Balance at an instant"):
- 09-01 00:00 (opening): F 500,000 + I 200,000 (paid later) + A 1,000,000 = 1,700,000. J closed
  on 08-20, before.
- 10-01 00:00: F 500,000 + I 200,000 + A 400,000 + B 600,000 (paid 10-20) = 1,700,000.
- 11-01 00:00: F 500,000 + A 400,000 + C 800,000 + 100,000 credited later = 1,800,000.
- 12-01 00:00 (closing): F 500,000 + A 400,000 + C 800,000 + D 300,000 + E 100,000 =
  2,100,000; current (due on or after 11-30): D + E = 400,000.
Credit sales of the period: B 600,000 + C 900,000 + D 300,000 + E 200,000 = 2,000,000.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from ledger.models import CreditNote, Invoice, Payment, Promise
from ledger.reports.dashboard import dashboard_figures
from ledger.reports.kpis import KpiReport, UnknownReport, build_report
from ledger.reports.receivables import countback_days
from ledger.repositories import InteractionRepository
from tests.ledger_support import at, make_customer, make_projected_invoice

START, END = date(2026, 9, 1), date(2026, 11, 30)
D = Decimal


def _invoice(
    session: Session,
    number: str,
    issued: str,
    due: str,
    amount: int,
    *,
    stage: str,
    amount_due: int,
    customer_id: str = "C-1",
    currency: str = "CLP",
    segment: str = "smb",
) -> None:
    make_projected_invoice(
        session,
        number,
        issued_on=date.fromisoformat(f"2026-{issued}"),
        due_on=date.fromisoformat(f"2026-{due}"),
        amount_minor=amount,
        stage=stage,
        amount_due_minor=amount_due,
        customer_id=customer_id,
        currency=currency,
    )
    session.execute(update(Invoice).where(Invoice.number == number).values(segment=segment))


def _payment(
    session: Session, number: str, when: str, amount: int, status: str = "applied"
) -> None:
    session.add(
        Payment(
            id=f"P-{number}-{when}",
            invoice_number=number,
            customer_id=None,
            amount_minor=amount,
            currency="CLP",
            paid_at=at(f"2026-{when}"),
            reference=None,
            status=status,
        )
    )


def _event(
    session: Session, number: str, when: str, kind: str, channel: str | None, step: str | None
) -> None:
    InteractionRepository.from_session(session).append(
        event_key=f"invoice-{number}#{kind}@{when}",
        occurred_at=at(f"2026-{when}"),
        invoice_number=number,
        customer_id="C-1",
        workflow_id=f"invoice-{number}",
        kind=kind,
        step_id=step,
        channel=channel,
    )


def _promise(
    session: Session, number: str, promised: str, amount: int, made: str, status: str, kind: str
) -> None:
    session.add(
        Promise(
            id=f"invoice-{number}#{made}",
            invoice_number=number,
            customer_id="C-1",
            kind=kind,
            source="collector",
            promised_date=date.fromisoformat(f"2026-{promised}"),
            amount_minor=amount,
            currency="CLP",
            made_at=at(f"2026-{made}"),
            status=status,
        )
    )


def build_book(session: Session) -> None:
    """The book of the module docstring."""
    make_customer(session, "C-1")
    make_customer(session, "C-2", name="Distribuidora del Norte Ltda.", segment="enterprise")
    _invoice(session, "F", "06-01", "07-01", 500_000, stage="handoff", amount_due=500_000)
    _invoice(session, "I", "07-01", "07-31", 200_000, stage="paid", amount_due=0)
    _invoice(session, "J", "07-15", "08-14", 250_000, stage="paid", amount_due=0)
    _invoice(session, "A", "08-01", "08-31", 1_000_000, stage="overdue", amount_due=400_000)
    _invoice(session, "B", "09-05", "10-05", 600_000, stage="paid", amount_due=0)
    _invoice(session, "C", "10-10", "11-09", 900_000, stage="overdue", amount_due=800_000)
    enterprise = {"customer_id": "C-2", "segment": "enterprise"}
    _invoice(
        session, "D", "11-05", "12-05", 300_000, stage="current", amount_due=300_000, **enterprise
    )
    _invoice(
        session, "E", "11-20", "12-20", 200_000, stage="current", amount_due=100_000, **enterprise
    )
    _invoice(session, "H", "10-01", "10-31", 700_000, stage="cancelled", amount_due=700_000)
    _invoice(
        session, "U", "09-10", "10-10", 50_000, stage="overdue", amount_due=50_000, currency="USD"
    )
    session.flush()
    _payment(session, "I", "10-29 10:00", 200_000)
    _payment(session, "J", "08-20 10:00", 250_000)
    _payment(session, "A", "09-10 10:00", 600_000)
    _payment(session, "B", "10-20 10:00", 600_000)
    _payment(session, "E", "11-25 10:00", 100_000)
    _payment(session, "C", "11-20 10:00", 50_000, status="unapplied")
    session.add(
        CreditNote(
            id="NC-C",
            invoice_number="C",
            amount_minor=100_000,
            currency="CLP",
            issued_on=date(2026, 11, 15),
            reason="descuento",
        )
    )
    for number, when in (("I", "10-29 10:00"), ("J", "08-20 10:00"), ("B", "10-20 10:00")):
        _event(session, number, when, "closed", None, None)
    sent = "message_sent"
    _event(session, "A", "09-01 09:00", sent, "email", "due_day")  # 9 days before: too old
    _event(session, "A", "09-05 10:00", sent, "sms", "overdue_5")
    _event(session, "A", "09-10 10:00", sent, "whatsapp", "overdue_10")  # at the payment: counts
    _event(session, "B", "10-13 10:00", sent, "email", "overdue_8")  # exactly 7 days before
    _event(session, "I", "08-15 10:00", sent, "sms", "overdue_15")  # I's first contact
    _event(session, "I", "10-20 09:00", sent, "sms", "overdue_81")  # 9 days before: too old
    _event(session, "E", "11-24 10:00", sent, "whatsapp", "pre_due")
    _event(session, "U", "09-15 10:00", sent, "email", "due_day")  # USD: not in the CLP cost
    _event(session, "C", "11-12 10:00", "message_failed", "sms", "overdue_3")  # never counts

    _promise(session, "A", "09-10", 600_000, "09-01 10:00", "kept", "promise")
    _promise(session, "C", "11-20", 900_000, "11-10 10:00", "broken", "promise")
    _promise(session, "B", "10-20", 600_000, "10-21 09:00", "kept", "payment_claim")
    _promise(session, "A", "11-15", 400_000, "11-01 10:00", "superseded", "promise")
    _promise(session, "E", "11-25", 200_000, "11-21 10:00", "broken", "promise")
    _promise(session, "D", "12-10", 300_000, "11-28 10:00", "open", "promise")
    _promise(session, "B", "10-19", 600_000, "10-06 10:00", "broken", "promise")
    session.flush()


def _report(session: Session, name: str, start: date = START) -> KpiReport:
    build_book(session)
    return build_report(session, name, start=start, end=END, currency="CLP")


def test_dso_by_the_three_methods_with_best_possible_and_days_delinquent(session: Session) -> None:
    report = _report(session, "dso")

    # simple = 2,100,000 ÷ 2,000,000 × 91 = 95.55 → 95.6 (half-even)
    # average AR = (1,700,000 + 1,700,000 + 1,800,000 + 2,100,000) ÷ 4 = 1,825,000;
    #   1,825,000 ÷ 2,000,000 × 91 = 83.0375 → 83.0
    # countback from 2,100,000: Nov sales 500,000 (+30 days) → 1,600,000; Oct 900,000
    #   (+31) → 700,000; Sep 600,000 (+30) → 100,000; Aug 1,000,000 is more than what is
    #   left: + 100,000 ÷ 1,000,000 × 31 = 3.1 → 94.1
    # best possible = 400,000 ÷ 2,000,000 × 91 = 18.2; ADD = DSO − 18.2
    assert report.rows == (
        ("simple", D("95.6"), D("18.2"), D("77.4")),
        ("average", D("83.0"), D("18.2"), D("64.8")),
        ("countback", D("94.1"), D("18.2"), D("75.9")),
    )
    assert report.figure == D("95.6")
    assert report.inputs["credit_sales"] == D(2_000_000)
    assert report.inputs["closing_ar"] == D(2_100_000)
    assert report.inputs["average_ar"] == D(1_825_000)
    assert report.inputs["ar_points"] == (
        "2026-09-01 00:00 1700000, 2026-10-01 00:00 1700000, "
        "2026-11-01 00:00 1800000, 2026-12-01 00:00 2100000"
    )
    assert [note.split(":")[0] for note in report.notes] == [
        "countback 2026-11",
        "countback 2026-10",
        "countback 2026-09",
        "countback 2026-08",
    ]


def test_the_dso_and_cei_agree_with_the_dashboard_over_the_same_days(session: Session) -> None:
    build_book(session)
    figures = dashboard_figures(session, as_of=END, currency="CLP", period_days=91)
    dso = build_report(session, "dso", start=START, end=END, currency="CLP")
    cei = build_report(session, "cei", start=START, end=END, currency="CLP")

    assert dso.rows[0][1] == figures.dso
    assert dso.rows[0][2] == figures.best_possible_dso
    assert cei.figure == figures.cei
    assert cei.inputs["opening_ar"] == figures.opening_ar.amount


def test_countback_when_the_last_month_alone_covers_the_ar() -> None:
    # 150,000 of November's 500,000 sales, over November's 30 days: 0.3 × 30 = 9.0.
    days, steps = countback_days(150_000, {"2026-11": 500_000}, END)
    assert days == D("9.0") and len(steps) == 1
    # A month without sales adds its days: 100,000 reaches back through an empty October.
    days, _ = countback_days(100_000, {"2026-09": 200_000}, date(2026, 10, 15))
    assert days == D("30.0")  # October's 15 days + 100,000 ÷ 200,000 × 30 of September


def test_cei(session: Session) -> None:
    report = _report(session, "cei")

    # (1,700,000 + 2,000,000 − 2,100,000) ÷ (1,700,000 + 2,000,000 − 400,000) × 100
    #   = 1,600,000 ÷ 3,300,000 × 100 = 48.48… → 48.5
    assert report.figure == D("48.5")
    assert report.rows == ((D(1_700_000), D(2_000_000), D(2_100_000), D(400_000), D("48.5")),)


def test_aging_in_total_by_segment_and_by_customer(session: Session) -> None:
    report = _report(session, "aging")

    # As of 11-30: F 152 days past due (120+), A 91 (91–120), C 21 (1–30), D and E not due.
    assert report.columns == (
        "all", "current", "1-30", "31-60", "61-90", "91-120", "120+", "total", "invoices"
    )  # fmt: skip
    assert report.rows == (
        ("all", D(400_000), D(800_000), D(0), D(0), D(400_000), D(500_000), D(2_100_000), 5),
    )
    by_segment = build_report(session, "aging", start=START, end=END, currency="CLP", by="segment")
    assert by_segment.rows == (
        ("smb", D(0), D(800_000), D(0), D(0), D(400_000), D(500_000), D(1_700_000), 3),
        ("enterprise", D(400_000), D(0), D(0), D(0), D(0), D(0), D(400_000), 2),
    )
    by_customer = build_report(
        session, "aging", start=START, end=END, currency="CLP", by="customer"
    )
    assert [row[0] for row in by_customer.rows] == [
        "C-1 Comercial Los Andes SpA",
        "C-2 Distribuidora del Norte Ltda.",
    ]
    assert by_customer.figure == D(2_100_000)


def test_promise_kept_rate(session: Session) -> None:
    report = _report(session, "promise-kept")

    # Falling due 09-01..11-30, not superseded: A 09-10 (paid 600,000 on 09-10: kept),
    # C 11-20 (nothing paid), B's claim for 10-20 (paid 10-20, before the claim: kept),
    # E 11-25 (100,000 of 200,000), B 10-19 (paid the day after). D's is due 12-10.
    # 2 kept ÷ 5 = 40.0 %
    assert report.figure == D("40.0")
    assert report.rows == (
        ("payment_claim", 1, 1, D(600_000), D("100.0")),
        ("promise", 4, 1, D(2_300_000), D("25.0")),
    )


def test_recovery_rate_by_channel_and_by_step(session: Session) -> None:
    report = _report(session, "recovery")

    # Collected: A 600,000 + B 600,000 + I 200,000 + E 100,000 = 1,500,000.
    # Outstanding = opening 1,700,000 + sales 2,000,000 = 3,700,000; 1,500,000 ÷ 3,700,000
    #   = 40.54… → 40.5 %. Credited: A → WhatsApp at the payment's instant, B → the email
    #   exactly 7 days before, I → none (its SMS was 9 days before), E → WhatsApp.
    assert report.figure == D("40.5")
    assert report.inputs["outstanding"] == D(3_700_000)
    assert report.rows == (
        ("channel", "whatsapp", 2, D(700_000), D("46.7"), D("18.9")),
        ("channel", "email", 1, D(600_000), D("40.0"), D("16.2")),
        ("channel", "none", 1, D(200_000), D("13.3"), D("5.4")),
        ("step", "standard · overdue_10", 1, D(600_000), D("40.0"), D("16.2")),
        ("step", "standard · overdue_8", 1, D(600_000), D("40.0"), D("16.2")),
        ("step", "none · none", 1, D(200_000), D("13.3"), D("5.4")),
        ("step", "standard · pre_due", 1, D(100_000), D("6.7"), D("2.7")),
    )
    # With a 6-day window B's email (7 days before) no longer takes the credit.
    narrow = build_report(session, "recovery", start=START, end=END, currency="CLP", contact_days=6)
    assert ("channel", "none", 2, D(800_000), D("53.3"), D("21.6")) in narrow.rows


def test_time_to_pay_after_first_contact(session: Session) -> None:
    report = _report(session, "time-to-pay")

    # Paid in full with the closing payment in the period: B (first message 10-13, paid
    # 10-20: 7 days) and I (first message 08-15, paid 10-29: 75 days). J closed in August.
    # median = (7 + 75) ÷ 2 = 41.0; mean 41.0; p90 = the ⌈1.8⌉ = 2nd smallest = 75
    assert report.rows == ((2, D("41.0"), D("41.0"), D(75)),)


def test_at_risk_rate(session: Session) -> None:
    report = _report(session, "at-risk", start=date(2026, 6, 1))

    # Issued 06-01..11-30: F I J A B C D E = 8 (H cancelled, U in USD). Matured (due by
    # 11-30 − 90 = 09-01): F, I, J, A. Reached 90 days past due: F (never paid), I (paid on
    # day 90 exactly), A (600,000 of 1,000,000 by day 90); J was paid on day 6.
    # 3 ÷ 8 = 37.5 %; of the matured 3 ÷ 4 = 75.0 %
    assert report.rows == ((8, 4, 3, D(1_700_000), D("37.5"), D("75.0")),)
    within = build_report(session, "at-risk", start=START, end=END, currency="CLP")
    assert within.rows == ((4, 0, 0, D(0), D("0.0"), None),)


def test_channel_cost_per_unit_collected(session: Session) -> None:
    report = _report(session, "channel-cost")

    # Sent in the period on CLP invoices: email A 09-01 + B 10-13; SMS A 09-05 + I 10-20;
    # WhatsApp A 09-10 + E 11-24 (I's August SMS is before, U's email is USD, C's failed).
    # Cost = 2 × 1 + 2 × 75 + 2 × 30 = 212; ÷ 1,500,000 collected = 0.000141(33…)
    assert report.rows == (
        ("email", 2, D("1"), D("2")),
        ("sms", 2, D("75"), D("150")),
        ("whatsapp", 2, D("30"), D("60")),
    )
    assert report.figure == D("0.000141")
    priced = build_report(
        session,
        "channel-cost",
        start=START,
        end=END,
        currency="CLP",
        channel_prices={"email": D(10), "sms": D(100)},
    )
    assert priced.inputs["cost"] == D(220)
    assert priced.notes == ("no unit price for whatsapp: counted at 0",)


def test_a_report_counts_only_its_own_currency(session: Session) -> None:
    build_book(session)
    report = build_report(session, "cei", start=START, end=END, currency="usd")

    assert report.period.currency == "USD"
    assert report.inputs["credit_sales"] == D("500.00")


def test_unknown_reports_and_bad_options_are_refused(session: Session) -> None:
    with pytest.raises(UnknownReport, match="dso, cei, aging"):
        build_report(session, "dsx", start=START, end=END, currency="CLP")
    with pytest.raises(ValueError, match="before it starts"):
        build_report(session, "dso", start=END, end=START, currency="CLP")
    with pytest.raises(ValueError, match="by must be one of segment, customer"):
        build_report(session, "aging", start=START, end=END, currency="CLP", by="region")
    with pytest.raises(ValueError, match="unknown currency"):
        build_report(session, "cei", start=START, end=END, currency="ZZZ")
