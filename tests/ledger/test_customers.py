from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dunning_policies.jurisdictions import DebtType
from ledger.models import Customer
from ledger.repositories import CustomerRepository
from tests.ledger_support import make_customer


def test_upsert_creates_a_customer_and_get_finds_it(session: Session) -> None:
    created = make_customer(session, "C-1", country="cl", tax_id="76.123.456-7")

    found = CustomerRepository.from_session(session).get("C-1")
    assert found is not None and found.id == created.id == "C-1"
    assert (found.country, found.timezone, found.locale) == ("CL", "America/Santiago", "es_CL")
    assert found.tax_id == "76.123.456-7"
    assert found.created_at.tzinfo is not None


def test_get_of_an_unknown_customer_is_none(session: Session) -> None:
    assert CustomerRepository.from_session(session).get("nobody") is None


def test_upsert_updates_the_fields_of_an_existing_customer(session: Session) -> None:
    first = make_customer(session, "C-1", email="old@example.cl")

    second = make_customer(session, "C-1", email="new@example.cl", segment=None)

    # No segment named: the stored one stays (see the segment test below).
    assert second.email == "new@example.cl" and second.segment == "smb"
    assert second.created_at == first.created_at
    assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_upsert_with_the_same_data_changes_nothing(session: Session) -> None:
    first_updated_at = make_customer(session, "C-1").updated_at

    again = make_customer(session, "C-1")

    assert again.updated_at == first_updated_at


def test_upsert_refuses_an_unknown_time_zone_or_country(session: Session) -> None:
    with pytest.raises(ValueError, match="time zone"):
        make_customer(session, "C-1", timezone="America/Atlantis")
    with pytest.raises(ValueError, match="country"):
        make_customer(session, "C-1", country="Chile")


def test_list_all_orders_customers_by_id(session: Session) -> None:
    for customer_id in ("C-3", "C-1", "C-2"):
        make_customer(session, customer_id)

    listed = CustomerRepository.from_session(session).list_all()

    assert [customer.id for customer in listed] == ["C-1", "C-2", "C-3"]


def _upsert_with_rules(session: Session, debt_type: object, subdivision: str | None) -> Customer:
    return CustomerRepository.from_session(session).upsert(
        id="C-9",
        name="Juana Pérez",
        email="juana@example.cl",
        phone=None,
        whatsapp=None,
        country="CL",
        timezone="America/Santiago",
        locale="es_CL",
        segment=None,
        debt_type=debt_type,  # type: ignore[arg-type]
        subdivision=subdivision,
    )


def test_upsert_stores_the_debt_type_and_subdivision_and_an_update_clears_them(
    session: Session,
) -> None:
    stored = _upsert_with_rules(session, DebtType.BUSINESS, " RM ")
    assert (stored.debt_type, stored.subdivision) == ("business", "RM")

    cleared = _upsert_with_rules(session, None, None)
    assert (cleared.debt_type, cleared.subdivision) == (None, None)


def test_upsert_refuses_an_unknown_debt_type(session: Session) -> None:
    with pytest.raises(ValueError, match="debt type must be one of consumer, business"):
        _upsert_with_rules(session, "household", None)


def test_the_database_itself_refuses_an_unknown_debt_type(session: Session) -> None:
    make_customer(session, "C-1")
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(update(Customer).values(debt_type="household"))


def test_an_issuance_without_a_segment_keeps_the_stored_one_and_a_named_one_wins(
    session: Session,
) -> None:
    """The risk review moves a customer to high_risk; the ERP's next invoice names no segment
    and must not undo it. An ERP that names a segment decides."""
    make_customer(session, "C-1", segment="high_risk")
    kept = make_customer(session, "C-1", segment=None)
    assert kept.segment == "high_risk"
    named = make_customer(session, "C-1", segment="preferred")
    assert named.segment == "preferred"
