"""The dashboard's figures on a small book computed by hand, on SQLite and on PostgreSQL.

The book (CLP unless said; as of Wednesday 2025-06-11, a 30-day period: 2025-05-13 to
2025-06-11; the week: Monday 06-09 to Sunday 06-15; contact window 7 days):

| invoice | issued | due   | amount    | stage        | due today | notes                          |
| ------- | ------ | ----- | --------- | ------------ | --------- | ------------------------------ |
| F-A     | 04-01  | 05-01 | 1,000,000 | overdue      | 550,000   | paid 400,000 05-20; CN 50,000  |
| F-B     | 05-15  | 06-14 | 500,000   | current      | 500,000   |                                |
| F-C     | 05-20  | 06-04 | 300,000   | paid         | 0         | paid 300,000 06-04 23:30       |
| F-D     | 01-10  | 02-09 | 800,000   | handoff      | 800,000   |                                |
| F-E     | 03-01  | 03-31 | 200,000   | written_off  | 200,000   | closed 05-01 (before period)   |
| F-F     | 05-25  | 06-10 | 250,000   | overdue      | 150,000   | paid 100,000 06-10 12:00       |
| F-H     | 05-16  | 06-15 | 700,000   | cancelled    | 700,000   | never a sale                   |
| F-I     | 04-20  | 05-20 | 400,000   | promise      | 400,000   | promise 400,000 for 06-12      |
| F-J     | 03-15  | 04-14 | 600,000   | payment_plan | 400,000   | plan 3 × 200,000, first paid   |
| F-K     | 02-01  | 03-03 | 100,000   | written_off  | 100,000   | closed 05-20 (inside period)   |
| F-G USD | 05-20  | 06-19 | 100.00    | current      | 50.00     | paid 50.00 06-10; task past SLA|

(F-A's credit note is dated 05-14; F-J's instalments are due 06-01, 06-13 and 07-13.)

docs/KPIS.md works through the same numbers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from ledger.models import CreditNote, Payment, PaymentPlan, PlanInstalment, Promise, Task
from ledger.reports.dashboard import (
    AgingLine,
    ChannelRecovery,
    StepRecovery,
    Total,
    currencies_in_use,
    dashboard_figures,
)
from ledger.repositories import InteractionRepository
from tests.ledger_support import at, make_customer, make_projected_invoice

AS_OF = date(2025, 6, 11)
PERIOD_DAYS = 30


def clp(minor: int, count: int) -> Total:
    return Total(minor, count, "CLP")


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
) -> None:
    make_projected_invoice(
        session,
        number,
        issued_on=date.fromisoformat(f"2025-{issued}"),
        due_on=date.fromisoformat(f"2025-{due}"),
        amount_minor=amount,
        stage=stage,
        amount_due_minor=amount_due,
        customer_id=customer_id,
        currency=currency,
    )


def _payment(
    session: Session,
    number: str,
    when: str,
    amount: int,
    *,
    currency: str = "CLP",
    status: str = "applied",
) -> None:
    session.add(
        Payment(
            id=f"P-{number}-{when}",
            invoice_number=number,
            customer_id=None,
            amount_minor=amount,
            currency=currency,
            paid_at=at(when),
            reference=None,
            status=status,
        )
    )


def _event(
    session: Session,
    number: str,
    when: str,
    kind: str,
    *,
    channel: str | None = None,
    step: str | None = None,
    status: str | None = None,
) -> None:
    InteractionRepository.from_session(session).append(
        event_key=f"invoice-{number}#{kind}@{when}",
        occurred_at=at(when),
        invoice_number=number,
        customer_id="C-1",
        workflow_id=f"invoice-{number}",
        kind=kind,
        step_id=step,
        channel=channel,
        status=status,
    )


def _promise(
    session: Session,
    number: str,
    *,
    promised: str,
    amount: int,
    made: str,
    status: str,
    settled: str | None = None,
    kind: str = "promise",
    plan_id: str | None = None,
) -> None:
    session.add(
        Promise(
            id=f"invoice-{number}#{made}",
            invoice_number=number,
            customer_id="C-1",
            kind=kind,
            source="collector",
            promised_date=date.fromisoformat(promised),
            plan_id=plan_id,
            amount_minor=amount,
            currency="CLP",
            made_at=at(made),
            status=status,
            settled_at=at(settled) if settled else None,
        )
    )


def _task(session: Session, number: str, sla: str, *, status: str = "open") -> None:
    session.add(
        Task(
            id=f"T-{number}",
            invoice_number=number,
            customer_id="C-1",
            workflow_id=f"invoice-{number}",
            queue="collectors",
            kind="negotiation",
            status=status,
            created_at=at("2025-05-01 09:00"),
            sla_due_at=at(sla),
            snoozed_until=at("2025-06-13 09:00") if number == "F-F" else None,
        )
    )


def build_book(session: Session) -> None:
    """The book of the module docstring."""
    make_customer(session, "C-1")
    make_customer(session, "C-2", name="Distribuidora del Norte Ltda.")
    _invoice(session, "F-A", "04-01", "05-01", 1_000_000, stage="overdue", amount_due=550_000)
    _invoice(session, "F-B", "05-15", "06-14", 500_000, stage="current", amount_due=500_000)
    _invoice(session, "F-C", "05-20", "06-04", 300_000, stage="paid", amount_due=0)
    _invoice(session, "F-D", "01-10", "02-09", 800_000, stage="handoff", amount_due=800_000)
    _invoice(session, "F-E", "03-01", "03-31", 200_000, stage="written_off", amount_due=200_000)
    _invoice(session, "F-F", "05-25", "06-10", 250_000, stage="overdue", amount_due=150_000)
    _invoice(session, "F-H", "05-16", "06-15", 700_000, stage="cancelled", amount_due=700_000)
    _invoice(session, "F-I", "04-20", "05-20", 400_000, stage="promise", amount_due=400_000)
    _invoice(
        session,
        "F-J",
        "03-15",
        "04-14",
        600_000,
        stage="payment_plan",
        amount_due=400_000,
        customer_id="C-2",
    )
    _invoice(session, "F-K", "02-01", "03-03", 100_000, stage="written_off", amount_due=100_000)
    _invoice(
        session,
        "F-G",
        "05-20",
        "06-19",
        10_000,
        stage="current",
        amount_due=5_000,
        currency="USD",
    )
    session.flush()

    _payment(session, "F-A", "2025-05-20 10:00", 400_000)
    _payment(session, "F-C", "2025-06-04 23:30", 300_000)
    _payment(session, "F-J", "2025-06-01 10:00", 200_000)
    _payment(session, "F-F", "2025-06-10 12:00", 100_000)
    _payment(session, "F-F", "2025-06-10 13:00", 70_000, status="unapplied")
    _payment(session, "F-G", "2025-06-10 12:00", 5_000, currency="USD")
    session.add(
        CreditNote(
            id="NC-1",
            invoice_number="F-A",
            amount_minor=50_000,
            currency="CLP",
            issued_on=date(2025, 5, 14),
            reason="descuento",
        )
    )

    _event(session, "F-E", "2025-05-01 12:00", "closed", status="written_off")
    _event(session, "F-K", "2025-05-20 12:00", "closed", status="written_off")
    # F-A: the email is too old, the SMS is in the window but the WhatsApp is later, and
    # the SMS after the payment does not count.
    _event(session, "F-A", "2025-05-10 09:00", "message_sent", channel="email", step="due_day")
    _event(session, "F-A", "2025-05-15 09:00", "message_sent", channel="sms", step="overdue_3")
    _event(session, "F-A", "2025-05-18 09:00", "message_sent", channel="whatsapp", step="overdue_7")
    _event(session, "F-A", "2025-05-21 09:00", "message_sent", channel="sms", step="overdue_14")
    # F-C: ten days before its payment, outside the 7-day window: no contact.
    _event(session, "F-C", "2025-05-25 10:00", "message_sent", channel="email", step="due_day")
    # F-J: the SMS at the very moment of the payment counts; a failed send never does.
    _event(session, "F-J", "2025-06-01 09:00", "message_failed", channel="whatsapp", step="x")
    _event(session, "F-J", "2025-06-01 10:00", "message_sent", channel="sms", step="overdue_30")
    # F-F: exactly seven days before the payment: inside the window.
    _event(session, "F-F", "2025-06-02 12:00", "message_sent", channel="whatsapp", step="pre")
    _event(session, "F-F", "2025-06-03 12:00", "message_sent", channel="email", step="due_day")

    _promise(
        session,
        "F-I",
        promised="2025-06-12",
        amount=400_000,
        made="2025-06-02 15:00",
        status="open",
    )
    _promise(
        session,
        "F-C",
        promised="2025-06-04",
        amount=300_000,
        made="2025-05-28 15:00",
        status="kept",
        settled="2025-06-04 23:30",
    )
    _promise(
        session,
        "F-A",
        promised="2025-05-25",
        amount=600_000,
        made="2025-05-15 15:00",
        status="broken",
        settled="2025-05-26 00:00",
    )
    _promise(
        session,
        "F-E",
        promised="2025-04-15",
        amount=200_000,
        made="2025-04-01 15:00",
        status="broken",
        settled="2025-04-16 00:00",
    )
    _promise(
        session,
        "F-J",
        promised="2025-05-29",
        amount=600_000,
        made="2025-05-20 15:00",
        status="superseded",
        settled="2025-05-30 10:00",
    )
    _promise(
        session,
        "F-J",
        promised="2025-07-13",
        amount=600_000,
        made="2025-05-30 10:00",
        status="open",
        kind="plan",
        plan_id="F-J/plan1",
    )
    session.add(
        PaymentPlan(
            id="F-J/plan1",
            invoice_number="F-J",
            customer_id="C-2",
            plan_id="plan1",
            source="collector",
            currency="CLP",
            total_minor=600_000,
            status="active",
            proposed_at=at("2025-05-30 09:00"),
            agreed_at=at("2025-05-30 10:00"),
        )
    )
    session.flush()
    session.add_all(
        [
            PlanInstalment(
                plan_id="F-J/plan1",
                number=1,
                due_on=date(2025, 6, 1),
                amount_minor=200_000,
                status="paid",
                paid_at=at("2025-06-01 10:00"),
            ),
            PlanInstalment(
                plan_id="F-J/plan1",
                number=2,
                due_on=date(2025, 6, 13),
                amount_minor=200_000,
            ),
            PlanInstalment(
                plan_id="F-J/plan1",
                number=3,
                due_on=date(2025, 7, 13),
                amount_minor=200_000,
            ),
        ]
    )
    _task(session, "F-D", "2025-06-05 09:00")
    _task(session, "F-A", "2025-06-20 09:00")
    _task(session, "F-F", "2025-06-11 23:00")
    _task(session, "F-I", "2025-06-01 09:00", status="completed")
    _task(session, "F-G", "2025-06-01 09:00")
    session.flush()


def test_balances_dso_and_cei(session: Session) -> None:
    """Closing balances (end of 06-11): A 550,000 + B 500,000 + D 800,000 + F 150,000
    + I 400,000 + J 400,000 = 2,800,000 over 6 invoices (C paid; E and K written off;
    H cancelled). Current (due 06-11 or later): B 500,000.

    Opening balances (00:00 of 05-13), rolled back from today's: A 550,000 + 400,000 paid
    + 50,000 credited = 1,000,000; D 800,000; I 400,000; J 400,000 + 200,000 = 600,000;
    K 100,000 (written off on 05-20, so still open then); E closed 05-01: out. = 2,900,000.

    Credit sales (issued 05-13 to 06-11): B 500,000 + C 300,000 + F 250,000 = 1,050,000
    (H is cancelled).
    DSO = 2,800,000 / 1,050,000 × 30 = 80.0; BPDSO = 500,000 / 1,050,000 × 30 = 14.285… →
    14.3; ADD = 80.0 − 14.3 = 65.7.
    CEI = (2,900,000 + 1,050,000 − 2,800,000) / (2,900,000 + 1,050,000 − 500,000) × 100
        = 1,150,000 / 3,450,000 × 100 = 33.33… → 33.3.
    """
    build_book(session)

    figures = dashboard_figures(session, as_of=AS_OF, currency="CLP", period_days=PERIOD_DAYS)

    assert figures.period_start == date(2025, 5, 13)
    assert figures.total_ar == clp(2_800_000, 6)
    assert figures.total_ar.amount == Decimal(2_800_000)
    assert figures.current_ar == clp(500_000, 1)
    assert figures.opening_ar == clp(2_900_000, 5)
    assert figures.credit_sales == clp(1_050_000, 3)
    assert figures.dso == Decimal("80.0")
    assert figures.best_possible_dso == Decimal("14.3")
    assert figures.average_days_delinquent == Decimal("65.7")
    assert figures.cei == Decimal("33.3")


def test_aging_buckets(session: Session) -> None:
    """Days past due on 06-11: B −3 (current); F 1 and I 22 (1–30); A 41 and J 58 (31–60);
    D 122 (120+: Feb 9 → Jun 9 is 120 days, +2)."""
    build_book(session)

    figures = dashboard_figures(session, as_of=AS_OF, currency="CLP", period_days=PERIOD_DAYS)

    assert figures.aging == (
        AgingLine("current", clp(500_000, 1)),
        AgingLine("1-30", clp(550_000, 2)),
        AgingLine("31-60", clp(950_000, 2)),
        AgingLine("61-90", clp(0, 0)),
        AgingLine("91-120", clp(0, 0)),
        AgingLine("120+", clp(800_000, 1)),
    )
    assert sum(line.invoices.minor for line in figures.aging) == figures.total_ar.minor


def test_week_collected_against_the_baseline_forecast(session: Session) -> None:
    """Week 06-09 to 06-15. Collected: F 100,000 on 06-10 (the unapplied 70,000 does not
    count). Promised: I's promise for 06-12 (400,000) + J's instalment of 06-13 (200,000) =
    600,000. Due without a commitment: B 500,000 and F 250,000 (its balance on Monday, before
    Tuesday's payment) = 750,000. On-time share: of C, F and I (due 05-13 to 06-11) only C
    was covered by its due day (paid 06-04 23:30 UTC, due 06-04): 1/3. Expected from due =
    750,000 × 1/3 = 250,000. Forecast = 600,000 + 250,000 = 850,000."""
    build_book(session)

    week = dashboard_figures(session, as_of=AS_OF, currency="CLP", period_days=PERIOD_DAYS).week

    assert (week.week_start, week.week_end) == (date(2025, 6, 9), date(2025, 6, 15))
    assert week.collected == clp(100_000, 1)
    assert week.promised == clp(600_000, 2)
    assert week.due == clp(750_000, 2)
    assert week.on_time_share == Decimal(1) / Decimal(3)
    assert week.expected_from_due == clp(250_000, 2)
    assert week.forecast.minor == 850_000


def test_recovery_is_credited_to_the_last_message_within_seven_days(session: Session) -> None:
    """Payments of the period: A 400,000 (05-20 10:00) → the WhatsApp of 05-18 (the later of
    two in the window); C 300,000 (06-04 23:30) → its email was 10 days before: no contact;
    J 200,000 (06-01 10:00) → the SMS sent at that very minute; F 100,000 (06-10 12:00) →
    the email of 06-03 12:00, exactly 7 days before. The USD payment is another currency."""
    build_book(session)

    figures = dashboard_figures(session, as_of=AS_OF, currency="CLP", period_days=PERIOD_DAYS)

    assert figures.by_channel == (
        ChannelRecovery("whatsapp", clp(400_000, 1)),
        ChannelRecovery("none", clp(300_000, 1)),
        ChannelRecovery("sms", clp(200_000, 1)),
        ChannelRecovery("email", clp(100_000, 1)),
    )
    assert figures.by_step == (
        StepRecovery("standard", "overdue_7", clp(400_000, 1)),
        StepRecovery("none", "none", clp(300_000, 1)),
        StepRecovery("standard", "overdue_30", clp(200_000, 1)),
        StepRecovery("standard", "due_day", clp(100_000, 1)),
    )
    assert figures.recovered == clp(1_000_000, 4)


def test_a_shorter_contact_window_credits_fewer_payments(session: Session) -> None:
    """With 2 days: A's WhatsApp (2 days 1 hour before) and F's email (7 days) fall out;
    only J's SMS keeps its payment."""
    build_book(session)

    figures = dashboard_figures(
        session, as_of=AS_OF, currency="CLP", period_days=PERIOD_DAYS, contact_days=2
    )

    assert figures.by_channel == (
        ChannelRecovery("none", clp(800_000, 3)),
        ChannelRecovery("sms", clp(200_000, 1)),
    )


def test_promises_and_tasks(session: Session) -> None:
    """Settled in the period: C kept (300,000, 06-04) and A broken (600,000, 05-26); E's
    broke before the period and J's was superseded: neither counts. Rate = 1 / 2 = 50.0 %.
    Open tasks on CLP invoices: D, A, F = 3; past their SLA by the end of 06-11: D (06-05)
    and F (06-11 23:00, snoozed or not) = 2. The USD invoice's task is another currency."""
    build_book(session)

    figures = dashboard_figures(session, as_of=AS_OF, currency="CLP", period_days=PERIOD_DAYS)

    assert figures.promises.kept == clp(300_000, 1)
    assert figures.promises.broken == clp(600_000, 1)
    assert figures.promises.rate == Decimal("50.0")
    assert (figures.tasks.open, figures.tasks.past_sla) == (3, 2)


def test_another_currency_is_its_own_dashboard(session: Session) -> None:
    """USD: F-G only. 100.00 issued 05-20, 50.00 paid 06-10 → 50.00 open, not yet due.
    DSO = 50 / 100 × 30 = 15.0 = BPDSO; its task is open and past SLA."""
    build_book(session)

    figures = dashboard_figures(session, as_of=AS_OF, currency="usd", period_days=PERIOD_DAYS)

    assert figures.currency == "USD"
    assert figures.total_ar == Total(5_000, 1, "USD")
    assert figures.total_ar.amount == Decimal("50.00")
    assert figures.dso == figures.best_possible_dso == Decimal("15.0")
    assert figures.average_days_delinquent == Decimal("0.0")
    assert (figures.tasks.open, figures.tasks.past_sla) == (1, 1)
    assert currencies_in_use(session) == ["CLP", "USD"]


def test_an_empty_book_has_no_ratios(session: Session) -> None:
    figures = dashboard_figures(session, as_of=AS_OF, currency="CLP")

    assert figures.total_ar == clp(0, 0)
    assert (figures.dso, figures.best_possible_dso, figures.cei) == (None, None, None)
    assert figures.average_days_delinquent is None
    assert figures.promises.rate is None
    assert figures.week.on_time_share is None
    assert figures.week.forecast.minor == 0
