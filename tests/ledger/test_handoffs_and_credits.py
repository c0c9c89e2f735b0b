from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.models import CustomerCredit, Handoff
from ledger.repositories import CreditRepository, HandoffRepository
from tests.ledger_support import at


def _hand_off(
    session: Session, handoff_id: str, invoice_number: str = "F-1", amount_due_minor: int = 900
) -> tuple[Handoff, bool]:
    return HandoffRepository.from_session(session).add_if_absent(
        id=handoff_id,
        invoice_number=invoice_number,
        customer_id="C-1",
        agency="Recupera Ltda.",
        amount_due_minor=amount_due_minor,
        currency="CLP",
        created_at=at("2025-07-01 12:00"),
    )


def test_an_invoice_is_handed_off_once(session: Session) -> None:
    first, created = _hand_off(session, "H-1", amount_due_minor=900)
    again, created_again = _hand_off(session, "H-1b", amount_due_minor=1)

    assert (created, created_again) == (True, False)
    assert again is first and first.id == "H-1" and first.amount_due_minor == 900
    assert first.agency == "Recupera Ltda." and first.created_at == at("2025-07-01 12:00")


def test_one_handoff_id_cannot_cover_two_invoices(session: Session) -> None:
    _hand_off(session, "H-1", invoice_number="F-1")

    with pytest.raises(IntegrityError), session.begin_nested():
        _hand_off(session, "H-1", invoice_number="F-2")


def test_list_handoffs_in_the_order_they_happened(session: Session) -> None:
    _hand_off(session, "H-2", invoice_number="F-2")
    _hand_off(session, "H-1", invoice_number="F-1")

    listed = HandoffRepository.from_session(session).list_handoffs()

    assert [handoff.id for handoff in listed] == ["H-1", "H-2"]


def _credit(
    session: Session, credit_id: str, amount_minor: int, currency: str = "CLP"
) -> tuple[CustomerCredit, bool]:
    return CreditRepository.from_session(session).add_if_absent(
        id=credit_id,
        customer_id="C-1",
        invoice_number="F-1",
        amount_minor=amount_minor,
        currency=currency,
        created_at=at("2025-04-02 15:00"),
    )


def test_a_credit_is_recorded_once(session: Session) -> None:
    credit, created = _credit(session, "CR-1", 5_000)
    again, created_again = _credit(session, "CR-1", 7)

    assert (created, created_again) == (True, False)
    assert again is credit and credit.amount_minor == 5_000


def test_the_balance_sums_movements_per_currency(session: Session) -> None:
    credits = CreditRepository.from_session(session)
    assert credits.balance_minor("C-1", "CLP") == 0

    _credit(session, "CR-1", 5_000)
    _credit(session, "CR-2", 2_500)
    _credit(session, "CR-3", -3_000)
    _credit(session, "CR-4", 1_999, currency="USD")

    assert credits.balance_minor("C-1", "CLP") == 4_500
    assert credits.balance_minor("C-1", "usd") == 1_999
    assert credits.balance_minor("C-2", "CLP") == 0


def test_a_zero_credit_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="zero"):
        _credit(session, "CR-1", 0)
