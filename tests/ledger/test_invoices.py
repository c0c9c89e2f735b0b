from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.models import Invoice
from ledger.repositories import InvoiceRepository, RecordNotFound
from tests.ledger_support import at, make_customer, make_invoice


def _add(
    session: Session, number: str = "F-1", amount_minor: int = 1_250_000
) -> tuple[Invoice, bool]:
    return InvoiceRepository.from_session(session).add_if_absent(
        number=number,
        customer_id="C-1",
        currency="clp",
        amount_minor=amount_minor,
        issued_on=date(2025, 3, 1),
        due_on=date(2025, 3, 31),
        segment="smb",
        policy_name="standard",
        policy_version=2,
        workflow_id=f"invoice-{number}",
    )


def test_add_if_absent_creates_the_invoice_with_everything_due(session: Session) -> None:
    make_customer(session, "C-1")

    invoice, created = _add(session)

    assert created is True
    stored = InvoiceRepository.from_session(session).get("F-1")
    assert stored is not None and stored.number == invoice.number == "F-1"
    assert (invoice.currency, invoice.amount_minor, invoice.amount_due_minor) == (
        "CLP",
        1_250_000,
        1_250_000,
    )
    assert invoice.stage == "issued"


def test_an_erp_resend_returns_the_stored_invoice_unchanged(session: Session) -> None:
    make_customer(session, "C-1")
    _add(session, amount_minor=1_250_000)

    again, created = _add(session, amount_minor=999)

    assert created is False
    assert again.amount_minor == 1_250_000


def test_an_invoice_needs_a_known_customer(session: Session) -> None:
    with pytest.raises(IntegrityError):
        _add(session)


def test_get_of_an_unknown_invoice_is_none(session: Session) -> None:
    assert InvoiceRepository.from_session(session).get("F-404") is None


def test_update_projection_stores_what_the_workflow_reports(session: Session) -> None:
    make_invoice(session, "F-1")
    invoices = InvoiceRepository.from_session(session)

    invoices.update_projection(
        "F-1",
        stage="overdue",
        amount_due_minor=250_000,
        next_action="whatsapp-reminder",
        next_action_at=at("2025-04-03 13:00"),
    )
    session.expire_all()

    stored = invoices.get("F-1")
    assert stored is not None
    assert (stored.stage, stored.amount_due_minor, stored.next_action) == (
        "overdue",
        250_000,
        "whatsapp-reminder",
    )
    assert stored.next_action_at == at("2025-04-03 13:00")
    assert stored.closed_reason is None

    closed = invoices.update_projection(
        "F-1",
        stage="closed",
        amount_due_minor=0,
        next_action=None,
        next_action_at=None,
        closed_reason="paid",
    )
    assert (closed.closed_reason, closed.next_action_at) == ("paid", None)


def test_update_projection_of_an_unknown_invoice_raises(session: Session) -> None:
    with pytest.raises(RecordNotFound):
        InvoiceRepository.from_session(session).update_projection(
            "F-404", stage="overdue", amount_due_minor=1, next_action=None, next_action_at=None
        )


def test_list_invoices_filters_by_customer_and_stage(session: Session) -> None:
    make_invoice(session, "F-2", customer_id="C-1", due_on=date(2025, 4, 30))
    make_invoice(session, "F-1", customer_id="C-1", due_on=date(2025, 3, 31), stage="overdue")
    make_invoice(session, "F-3", customer_id="C-2", stage="overdue")
    invoices = InvoiceRepository.from_session(session)

    def numbers(**filters: str) -> list[str]:
        return [invoice.number for invoice in invoices.list_invoices(**filters)]

    assert numbers() == ["F-1", "F-3", "F-2"]
    assert numbers(customer_id="C-1") == ["F-1", "F-2"]
    assert numbers(stage="overdue") == ["F-1", "F-3"]
    assert numbers(customer_id="C-2", stage="issued") == []


def test_invalid_currency_is_refused(session: Session) -> None:
    make_customer(session, "C-1")
    with pytest.raises(ValueError, match="currency"):
        InvoiceRepository.from_session(session).add_if_absent(
            number="F-1",
            customer_id="C-1",
            currency="PESOS",
            amount_minor=1,
            issued_on=date(2025, 3, 1),
            due_on=date(2025, 3, 31),
            segment="smb",
            policy_name="standard",
            policy_version=1,
            workflow_id="invoice-F-1",
        )
