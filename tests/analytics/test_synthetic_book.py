"""The synthetic book: the same seed gives the same book; its payers look like a Chilean and
Mexican B2B book (most pay within weeks, the high-risk segment late, a few never); and in the
ledger it reads like a book the product had run."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.ledger_loader import load_book, stage_on
from analytics.synthetic_book import contacts_before, synthetic_book
from dunning_policies.money import to_minor
from ledger.audit import verify_chains
from ledger.db import create_ledger_engine
from ledger.models import Customer, Interaction, Invoice, Payment
from tests.ledger_support import sqlite_url


def test_the_same_seed_gives_the_same_book_and_another_seed_another() -> None:
    first, again, other = synthetic_book(3000, seed=11), synthetic_book(3000, seed=11), None
    assert first.invoices == again.invoices and first.payments == again.payments
    other = synthetic_book(3000, seed=12)
    assert other.payments != first.payments


def test_payers_behave_by_segment() -> None:
    book = synthetic_book(20_000, seed=7)
    late = book.days_late()
    by_segment: dict[str, list[int]] = {}
    for invoice in book.invoices:
        if invoice.number in late:
            segment = book.customer_by_id[invoice.customer_id].segment
            by_segment.setdefault(segment, []).append(late[invoice.number])
    medians = {segment: statistics.median(days) for segment, days in by_segment.items()}
    assert medians["preferred"] < medians["standard"] < medians["high_risk"]
    assert -5 <= medians["preferred"] <= 10
    assert medians["high_risk"] >= 25
    paid_share = len(book.payments) / len(book.invoices)
    assert 0.8 < paid_share < 0.95  # the rest: not yet due, late, or never paid
    currencies = Counter(invoice.currency for invoice in book.invoices)
    assert set(currencies) == {"CLP", "MXN"}


def test_contacts_count_only_reminders_sent_before_the_payment() -> None:
    from datetime import date

    due = date(2026, 6, 10)
    assert contacts_before(due, date(2026, 6, 5)) == 0  # before the preventive reminder
    assert contacts_before(due, date(2026, 6, 10)) == 1  # the preventive one (due − 3)
    assert contacts_before(due, date(2026, 6, 14)) == 3  # − 3, due day, + 3
    assert contacts_before(due, date(2026, 8, 1)) == 5


def test_loaded_into_the_ledger_it_reads_as_a_book_the_product_ran(tmp_path: Path) -> None:
    book = synthetic_book(2_000, seed=5)
    engine = create_ledger_engine(sqlite_url(tmp_path))
    with engine.begin() as connection:
        load_book(connection, book)
    with engine.connect() as connection:
        count = lambda model: connection.execute(select(func.count()).select_from(model)).scalar()  # noqa: E731
        assert count(Customer) == len(book.customers)
        assert count(Invoice) == len(book.invoices)
        assert count(Payment) == len(book.payments)
        open_due = connection.execute(
            select(func.sum(Invoice.amount_due_minor)).where(Invoice.stage != "paid")
        ).scalar()
        paid_numbers = {payment.invoice_number for payment in book.payments}
        assert open_due == sum(
            to_minor(invoice.amount, invoice.currency)
            for invoice in book.invoices
            if invoice.number not in paid_numbers
        )
        stages = dict(
            connection.execute(select(Invoice.stage, func.count()).group_by(Invoice.stage)).all()
        )
        assert stages["paid"] == len(book.payments)
        expected = Counter(
            stage_on(invoice, None, book.as_of)
            for invoice in book.invoices
            if invoice.number not in paid_numbers
        )
        assert {stage: n for stage, n in stages.items() if stage != "paid"} == dict(expected)
        # No reminder after the payment that ended an invoice's dunning.
        late_contacts = connection.execute(
            select(func.count())
            .select_from(Interaction)
            .join(Payment, Payment.invoice_number == Interaction.invoice_number)
            .where(Interaction.occurred_at > Payment.paid_at)
        ).scalar()
        assert late_contacts == 0
    with Session(engine) as session:
        report = verify_chains(session)
        assert report.intact and report.lines > 0, report.as_dict()
    engine.dispose()
