"""The customer risk score on a hand-made ledger: what each part of it weighs, the segment it
leads to, the hysteresis that keeps a customer from flapping, and what a review writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from analytics.risk import CustomerBehaviour, assess, score, segment_for_score
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.models import Customer, Invoice, Payment, Promise
from ledger.repositories.risk import RiskRepository
from tests.ledger_support import BACKENDS, postgres_schema_url, sqlite_url

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
TODAY = NOW.date()


def _customer(customer_id: str, segment: str | None, override: str | None = None):
    return {
        "id": customer_id, "name": customer_id, "email": None, "phone": None, "whatsapp": None,
        "country": "CL", "timezone": "America/Santiago", "locale": "es_CL", "segment": segment,
        "policy_override": override,
    }  # fmt: skip


def _invoice(customer_id: str, number: str, due: date, *, paid: bool, due_minor: int = 100_000):
    return {
        "number": number, "customer_id": customer_id, "currency": "CLP", "amount_minor": 100_000,
        "amount_due_minor": 0 if paid else due_minor, "issued_on": due - timedelta(days=30),
        "due_on": due, "stage": "paid" if paid else "overdue", "segment": "standard",
        "policy_name": "standard", "policy_version": 1, "workflow_id": f"invoice-{number}",
        "closed_reason": "paid" if paid else None,
    }  # fmt: skip


def _payment(customer_id: str, number: str, paid_on: date):
    return {
        "id": f"P-{number}", "invoice_number": number, "customer_id": customer_id,
        "amount_minor": 100_000, "currency": "CLP",
        "paid_at": datetime.combine(paid_on, datetime.min.time(), UTC) + timedelta(hours=15),
    }  # fmt: skip


def _broken(customer_id: str, number: str, settled_on: date):
    at = datetime.combine(settled_on, datetime.min.time(), UTC) + timedelta(hours=20)
    return {
        "id": f"{number}#{settled_on}", "invoice_number": number, "customer_id": customer_id,
        "kind": "promise", "source": "collector", "promised_date": settled_on,
        "amount_minor": 100_000, "currency": "CLP", "made_at": at - timedelta(days=5),
        "status": "broken", "settled_at": at,
    }  # fmt: skip


def _paid_invoices(customer_id: str, lateness: list[tuple[int, int]]):
    """(days before today it was paid, days late) → invoices and their payments."""
    invoices, payments = [], []
    for index, (paid_days_ago, late) in enumerate(lateness):
        number = f"{customer_id}-{index}"
        paid_on = TODAY - timedelta(days=paid_days_ago)
        invoices.append(_invoice(customer_id, number, paid_on - timedelta(days=late), paid=True))
        payments.append(_payment(customer_id, number, paid_on))
    return invoices, payments


@pytest.fixture(params=BACKENDS)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The hand-made ledger, on a SQLite file and on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        engine = create_ledger_engine(sqlite_url(tmp_path))
        _fill(engine)
        yield engine
        engine.dispose()
        return
    with postgres_schema_url() as url:
        engine = create_ledger_engine(url)
        _fill(engine)
        yield engine
        engine.dispose()


def _fill(engine: Engine) -> None:
    good_invoices, good_payments = _paid_invoices("GOOD", [(20, 0), (60, 1), (150, 2), (300, 1)])
    bad_invoices, bad_payments = _paid_invoices("BAD", [(10, 45), (50, 45), (200, 45), (250, 45)])
    worse_invoices, worse_payments = _paid_invoices(
        "WORSE", [(10, 40), (30, 40), (120, 10), (200, 10), (400, 90)]
    )
    new_invoices, new_payments = _paid_invoices("NEW", [(15, 60)])
    with engine.begin() as connection:
        connection.execute(
            insert(Customer),
            [
                _customer("GOOD", "standard"),
                _customer("BAD", "standard"),
                _customer("WORSE", "standard"),
                _customer("NEW", "standard"),
                _customer("OWN", "standard", override="preferred"),
            ],
        )
        connection.execute(
            insert(Invoice),
            [
                *good_invoices,
                *bad_invoices,
                *worse_invoices,
                *new_invoices,
                # BAD owes 300,000, of which 200,000 on an invoice 70 days past due.
                _invoice("BAD", "BAD-open-old", TODAY - timedelta(days=70), paid=False,
                         due_minor=200_000),
                _invoice("BAD", "BAD-open-new", TODAY - timedelta(days=5), paid=False),
                _invoice("GOOD", "GOOD-open", TODAY + timedelta(days=10), paid=False),
            ],
        )  # fmt: skip
        connection.execute(
            insert(Payment), [*good_payments, *bad_payments, *worse_payments, *new_payments]
        )
        connection.execute(
            insert(Promise),
            [
                _broken("BAD", "BAD-0", TODAY - timedelta(days=20)),
                _broken("BAD", "BAD-1", TODAY - timedelta(days=100)),
                _broken("BAD", "BAD-2", TODAY - timedelta(days=400)),  # over a year ago
            ],
        )


def _behaviour(engine: Engine) -> dict[str, CustomerBehaviour]:
    with unit_of_work(make_session_factory(engine)) as session:
        return {b.customer_id: b for b in RiskRepository.from_session(session).behaviour(NOW)}


def test_the_ledger_gives_each_customers_behaviour_over_the_last_year(ledger):
    found = _behaviour(ledger)

    bad = found["BAD"]
    assert (bad.paid_count, bad.paid_late_count, bad.average_days_late) == (4, 4, 45.0)
    assert (bad.broken_promises, bad.open_minor, bad.overdue_60_minor) == (2, 300_000, 200_000)
    worse = found["WORSE"]
    assert worse.paid_count == 4, "the payment of 400 days ago is out of the window"
    assert (worse.recent_days_late, worse.earlier_days_late) == (40.0, 10.0)
    assert found["GOOD"].overdue_60_minor == 0 and found["GOOD"].open_minor == 100_000
    assert found["OWN"].paid_count == 0


def test_the_score_adds_up_its_documented_weights(ledger):
    found = _behaviour(ledger)

    points, reasons = score(found["BAD"])
    # late share 1 × 30, 45 days late (full at 30) × 25, 2 of 3 broken promises × 15,
    # two thirds of the balance 60+ days past due × 20, no trend.
    assert reasons["late_share"] == 30 and reasons["days_late"] == 25
    assert reasons["broken_promises"] == 10 and reasons["long_overdue"] == pytest.approx(13.3)
    assert reasons["trend"] == 0 and points == 78
    points, reasons = score(found["WORSE"])
    # half paid 30+ days late (15), 25 days late on average (20.8), 30 days worse (10).
    assert (reasons["late_share"], reasons["days_late"], reasons["trend"]) == (15, 20.8, 10)
    assert points == 46
    assert score(found["GOOD"])[0] == 1


def test_each_customer_lands_in_the_segment_its_behaviour_earns(ledger):
    assessed = {b.customer_id: assess(b) for b in _behaviour(ledger).values()}

    assert assessed["GOOD"].segment == "preferred" and assessed["GOOD"].changed
    assert assessed["BAD"].segment == "high_risk" and assessed["BAD"].changed
    assert assessed["WORSE"].segment == "standard" and not assessed["WORSE"].changed
    new = assessed["NEW"]
    assert new.segment == "standard" and new.reasons["kept"] == "too little history to move"


@pytest.mark.parametrize(
    ("points", "current", "expected"),
    [
        (9, "standard", "preferred"),
        (10, "standard", "standard"),
        (19, "preferred", "preferred"),  # above the 15 boundary, within the margin
        (20, "preferred", "standard"),
        (54, "standard", "standard"),
        (55, "standard", "high_risk"),
        (45, "high_risk", "high_risk"),
        (44, "high_risk", "standard"),
        (9, "high_risk", "preferred"),
        (55, "preferred", "high_risk"),
        (30, None, "standard"),
    ],
)
def test_hysteresis_needs_a_boundary_crossed_by_the_margin(points, current, expected):
    assert segment_for_score(points, current) == expected


def test_a_score_wobbling_round_a_boundary_does_not_flap():
    segment = "standard"
    history = []
    for points in (8, 12, 16, 14, 18, 12, 21, 14):
        segment = segment_for_score(points, segment)
        history.append(segment)
    assert history == ["preferred"] * 6 + ["standard"] * 2


def test_a_review_saves_the_scores_and_moves_the_customers_segment(ledger):
    sessions = make_session_factory(ledger)
    with unit_of_work(sessions) as session:
        repository = RiskRepository.from_session(session)
        repository.save([assess(b) for b in repository.behaviour(NOW)], NOW)
    with unit_of_work(sessions) as session:
        repository = RiskRepository.from_session(session)
        saved = {r.customer_id: r for r in repository.list_scores()}
        segments = {c.id: c.segment for c in session.query(Customer)}
        assert saved["BAD"].score == 78 and saved["BAD"].segment == "high_risk"
        assert saved["BAD"].reasons["broken_promises_last_year"] == 2
        assert saved["BAD"].scored_at == NOW
        assert segments == {
            "GOOD": "preferred",
            "BAD": "high_risk",
            "WORSE": "standard",
            "NEW": "standard",
            "OWN": "standard",
        }
        assert repository.open_invoice_workflows("BAD") == [
            ("BAD-open-new", "invoice-BAD-open-new"),
            ("BAD-open-old", "invoice-BAD-open-old"),
        ]
        assert repository.policy_override("OWN") == "preferred"
    # Scored again the next day with the same behaviour: nothing moves.
    with unit_of_work(sessions) as session:
        repository = RiskRepository.from_session(session)
        again = [assess(b) for b in repository.behaviour(NOW + timedelta(days=1))]
        assert not any(s.changed for s in again)
