from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from cli.dossier_pdf import render_pdf
from ledger.dossier import InvoiceNotFound, build_dossier, sha256_text
from ledger.models import (
    CreditNote,
    DisputeCase,
    Handoff,
    OutboxMessage,
    Payment,
    Promise,
)
from ledger.repositories import InteractionRepository
from tests.ledger_support import at, make_invoice

BODY = "Estimado cliente: la factura F-1001 venció el 31-03-2025."


def make_collected_invoice(session: Session, number: str = "F-1001") -> None:
    """An invoice with one of every kind of evidence, written out of time order on purpose."""
    make_invoice(session, number)
    session.add_all(
        [
            Payment(
                id=f"P-{number}",
                invoice_number=number,
                customer_id="C-1",
                amount_minor=250_000,
                currency="CLP",
                paid_at=at("2025-04-20 15:00"),
                reference="TRX-77",
                source="bank",
            ),
            OutboxMessage(
                idempotency_key=f"{number}:d+1-email",
                invoice_number=number,
                customer_id="C-1",
                workflow_id=f"invoice-{number}",
                step_id="d+1-email",
                channel="email",
                provider="ses",
                template="reminder_overdue",
                locale="es_CL",
                recipient="pagos@losandes.cl",
                subject="Factura vencida",
                body=BODY,
                status="sent",
                attempts=2,
                created_at=at("2025-04-01 12:00"),
                sent_at=at("2025-04-01 12:00"),
            ),
            Promise(
                id=f"invoice-{number}#3",
                invoice_number=number,
                customer_id="C-1",
                kind="promise",
                source="portal",
                promised_date=date(2025, 4, 15),
                amount_minor=1_000_000,
                currency="CLP",
                made_at=at("2025-04-05 09:00"),
                status="broken",
            ),
            DisputeCase(
                case_id=f"D-{number}",
                invoice_number=number,
                customer_id="C-1",
                code="wrong_amount",
                reason="El monto no corresponde",
                owner="billing",
                opened_at=at("2025-04-10 11:00"),
                deadline=date(2025, 4, 20),
                status="rejected",
                currency="CLP",
            ),
            CreditNote(
                id=f"NC-{number}",
                invoice_number=number,
                amount_minor=50_000,
                currency="CLP",
                issued_on=date(2025, 4, 25),
            ),
            Handoff(
                id=f"H-{number}",
                invoice_number=number,
                customer_id="C-1",
                agency="Agencia Sur",
                amount_due_minor=950_000,
                currency="CLP",
                created_at=at("2025-05-02 10:00"),
            ),
        ]
    )
    InteractionRepository.from_session(session).append(
        event_key=f"{number}:d+1-email:delivered",
        occurred_at=at("2025-04-01 12:05"),
        invoice_number=number,
        customer_id="C-1",
        workflow_id=f"invoice-{number}",
        kind="message_delivered",
        channel="email",
        status="delivered",
    )
    session.flush()


def test_the_dossier_lists_every_piece_of_evidence_in_time_order(session: Session) -> None:
    make_collected_invoice(session)

    dossier = build_dossier(session, "F-1001")

    assert [entry.source for entry in dossier.timeline] == [
        "outbox",
        "bitacora",
        "promise",
        "dispute",
        "payment",
        "credit_note",
        "handoff",
    ]
    times = [entry.at for entry in dossier.timeline]
    assert times == sorted(times)
    contact = dossier.timeline[0].fields
    assert contact["content_sha256"] == sha256_text("Factura vencida\n" + BODY)
    assert (contact["channel"], contact["provider"], contact["attempts"]) == ("email", "ses", 2)
    assert "body" not in contact
    assert dossier.timeline[1].fields["row_hash"]
    assert dossier.customer["tax_id"] == "76.123.456-7"
    assert dossier.chain == {"customer_lines": 1, "intact": True, "first_broken": None}


def test_bodies_only_on_request(session: Session) -> None:
    make_collected_invoice(session)

    [contact] = [
        entry
        for entry in build_dossier(session, "F-1001", with_bodies=True).timeline
        if entry.source == "outbox"
    ]
    assert contact.fields["body"] == BODY


def test_an_unknown_invoice_has_no_dossier(session: Session) -> None:
    with pytest.raises(InvoiceNotFound):
        build_dossier(session, "F-404")


@pytest.mark.parametrize(("language", "heading"), [("es", "Cronología"), ("en", "Timeline")])
def test_the_pdf_carries_the_invoice_and_the_content_hashes(
    session: Session, language: str, heading: str
) -> None:
    make_collected_invoice(session)
    dossier = build_dossier(session, "F-1001")

    pdf = render_pdf(dossier, language=language, compress=False)

    assert pdf.startswith(b"%PDF-")
    text = pdf.decode("latin-1")
    assert "F-1001" in text
    assert heading.encode("latin-1").decode("latin-1") in text
    assert dossier.timeline[0].fields["content_sha256"] in text
    assert dossier.timeline[1].fields["row_hash"] in text
    assert render_pdf(dossier).startswith(b"%PDF-")  # compressed, as the CLI writes it
