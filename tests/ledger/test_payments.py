from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from ledger.models import Payment
from ledger.repositories import PaymentRepository
from tests.ledger_support import at


def _pay(
    session: Session,
    payment_id: str,
    *,
    invoice_number: str = "F-1",
    amount_minor: int = 500_000,
    currency: str = "CLP",
    paid_at: datetime | None = None,
) -> tuple[Payment, bool]:
    return PaymentRepository.from_session(session).add_if_absent(
        id=payment_id,
        invoice_number=invoice_number,
        customer_id="C-1",
        amount_minor=amount_minor,
        currency=currency,
        paid_at=paid_at or at("2025-04-02 15:00"),
        reference=f"TRX-{payment_id}",
    )


def test_a_payment_may_arrive_before_its_invoice(session: Session) -> None:
    payment, created = _pay(session, "P-1", invoice_number="F-not-yet-issued")

    assert created is True
    assert (payment.invoice_number, payment.amount_minor, payment.currency) == (
        "F-not-yet-issued",
        500_000,
        "CLP",
    )
    assert payment.recorded_at.tzinfo is not None


def test_the_same_payment_reported_twice_is_recorded_once(session: Session) -> None:
    _pay(session, "P-1", amount_minor=500_000)

    again, created = _pay(session, "P-1", amount_minor=1)

    assert created is False
    assert again.amount_minor == 500_000
    assert len(PaymentRepository.from_session(session).list_for_invoice("F-1")) == 1


def test_list_for_invoice_returns_its_payments_in_payment_order(session: Session) -> None:
    _pay(session, "P-2", paid_at=at("2025-04-05 10:00"))
    _pay(session, "P-1", paid_at=at("2025-04-01 10:00"))
    _pay(session, "P-3", invoice_number="F-2")

    listed = PaymentRepository.from_session(session).list_for_invoice("F-1")

    assert [payment.id for payment in listed] == ["P-1", "P-2"]


@pytest.mark.parametrize("amount_minor", [0, -100])
def test_a_payment_must_be_positive(session: Session, amount_minor: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        _pay(session, "P-1", amount_minor=amount_minor)


def test_a_payment_needs_a_real_currency(session: Session) -> None:
    with pytest.raises(ValueError, match="currency"):
        _pay(session, "P-1", currency="PESOS")
