"""Issuance snapshots the law's contact rules for the customer into the workflow's start state:
the ERP's debt type, else the tax id's, else consumer; the region's holidays with the country's.
The ledger's half only (``record_issuance``), on a SQLite ledger: no Temporal needed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.errors import InvalidRequest
from api.invoicing import CustomerDetails, NewInvoice, record_issuance
from api.schemas import CustomerIn
from dunning_policies.jurisdictions import CHILE_CONSUMER, MEXICO, DebtType
from ledger.db import create_ledger_engine
from ledger.repositories.customers import CustomerRepository
from tests.ledger_support import rolled_back_session, sqlite_url


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_ledger_engine(sqlite_url(tmp_path))
    with rolled_back_session(engine) as rolled_back:
        yield rolled_back
    engine.dispose()


def customer(**changes: object) -> CustomerDetails:
    fields: dict = {
        "id": "C-1",
        "name": "Juana Pérez",
        "country": "CL",
        "timezone": "America/Santiago",
        "locale": "es_CL",
        "email": "juana@example.cl",
        "tax_id": "12.345.678-5",
    }
    fields.update(changes)
    return CustomerDetails(**fields)


def issue(session: Session, details: CustomerDetails | None, number: str = "F-1"):
    new = NewInvoice(number, "C-1", Decimal(150_000), "CLP", date(2026, 11, 1), date(2026, 12, 1))
    return record_issuance(session, new, details)


def test_a_chilean_person_gets_ley_19_496_with_chiles_holidays(session: Session) -> None:
    rules = issue(session, customer()).state.contact_rules
    assert rules is not None
    assert (rules.name, rules.window) == (CHILE_CONSUMER.name, CHILE_CONSUMER.window)
    assert rules.holidays[date(2026, 9, 18)] == "Independence Day"
    assert rules.subdivision is None


def test_a_company_rut_makes_a_business_debt(session: Session) -> None:
    rules = issue(session, customer(tax_id="76.086.428-5")).state.contact_rules
    assert rules is not None and rules.debt_type is DebtType.BUSINESS


def test_the_erps_debt_type_beats_the_tax_id_and_is_kept_for_the_next_invoice(
    session: Session,
) -> None:
    details = customer(tax_id="76.086.428-5", debt_type=DebtType.CONSUMER, subdivision="ap")
    first = issue(session, details).state.contact_rules
    assert first is not None and first.debt_type is DebtType.CONSUMER
    assert first.subdivision == "AP" and date(2026, 6, 7) in first.holidays  # Arica's own
    stored = CustomerRepository.from_session(session).get("C-1")
    assert stored is not None and (stored.debt_type, stored.subdivision) == ("consumer", "AP")

    # A later invoice naming only the customer's id takes the stored customer's rules.
    second = issue(session, None, number="F-2").state.contact_rules
    assert second == first


def test_without_a_word_from_the_erp_or_the_tax_id_the_debt_is_a_consumers(
    session: Session,
) -> None:
    details = customer(country="MX", timezone="America/Mexico_City", locale="es_MX", tax_id=None)
    rules = issue(session, details).state.contact_rules
    assert rules is not None
    assert (rules.debt_type, rules.window) == (DebtType.CONSUMER, MEXICO.window)


def test_an_unknown_region_is_refused_naming_the_field(session: Session) -> None:
    with pytest.raises(InvalidRequest) as refused:
        issue(session, customer(subdivision="Santiago"))
    assert refused.value.field == "customer.subdivision"
    assert "known codes: AI, AN" in str(refused.value)


def test_the_api_body_takes_a_debt_type_and_a_subdivision() -> None:
    body = CustomerIn(id="C-1", name="X", debt_type="business", subdivision="RM")  # type: ignore[arg-type]
    assert (body.debt_type, body.subdivision) == (DebtType.BUSINESS, "RM")
    with pytest.raises(ValidationError, match="debt_type"):
        CustomerIn(id="C-1", name="X", debt_type="household")  # type: ignore[arg-type]
