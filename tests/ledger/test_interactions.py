from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ledger.models import Interaction
from ledger.repositories import InteractionRepository
from tests.ledger_support import at


def _append(
    session: Session,
    event_key: str,
    *,
    occurred_at: datetime | None = None,
    invoice_number: str = "F-1",
    customer_id: str = "C-1",
    kind: str = "message_sent",
) -> bool:
    return InteractionRepository.from_session(session).append(
        event_key=event_key,
        occurred_at=occurred_at or at("2025-04-01 13:00"),
        invoice_number=invoice_number,
        customer_id=customer_id,
        workflow_id=f"invoice-{invoice_number}",
        kind=kind,
        step_id="d+1-whatsapp",
        channel="whatsapp",
        template="reminder_overdue",
        status="sent",
        detail={"provider_message_id": "SM123", "amount_due_minor": 1_250_000},
    )


def test_append_records_a_line_with_its_detail(session: Session) -> None:
    assert _append(session, "invoice-F-1:d+1-whatsapp:sent") is True

    [line] = InteractionRepository.from_session(session).list_for_invoice("F-1")
    assert (line.kind, line.channel, line.template, line.status) == (
        "message_sent",
        "whatsapp",
        "reminder_overdue",
        "sent",
    )
    assert line.detail == {"provider_message_id": "SM123", "amount_due_minor": 1_250_000}
    assert line.occurred_at == at("2025-04-01 13:00")


def test_append_with_a_known_event_key_adds_nothing(session: Session) -> None:
    _append(session, "key-1")

    assert _append(session, "key-1", kind="something_else") is False
    [line] = InteractionRepository.from_session(session).list_for_invoice("F-1")
    assert line.kind == "message_sent"


def test_append_without_optional_fields_stores_an_empty_detail(session: Session) -> None:
    InteractionRepository.from_session(session).append(
        event_key="k",
        occurred_at=at("2025-04-01 13:00"),
        invoice_number="F-1",
        customer_id="C-1",
        workflow_id="invoice-F-1",
        kind="workflow_started",
    )
    [line] = InteractionRepository.from_session(session).list_for_customer("C-1")
    assert line.detail == {} and line.step_id is None and line.channel is None


def test_lists_are_chronological_per_invoice_and_per_customer(session: Session) -> None:
    _append(session, "b", occurred_at=at("2025-04-02 10:00"))
    _append(session, "a", occurred_at=at("2025-04-01 10:00"))
    _append(session, "c", occurred_at=at("2025-04-03 10:00"), invoice_number="F-2")
    _append(session, "d", occurred_at=at("2025-04-01 11:00"), customer_id="C-2")
    interactions = InteractionRepository.from_session(session)

    assert [line.event_key for line in interactions.list_for_invoice("F-1")] == ["a", "d", "b"]
    assert [line.event_key for line in interactions.list_for_customer("C-1")] == ["a", "b", "c"]


def test_the_repository_offers_no_way_to_change_the_past() -> None:
    public = {name for name in dir(InteractionRepository) if not name.startswith("_")}
    assert public == {
        "append",
        "list_for_invoice",
        "list_for_customer",
        "last_inbound_at",
        "message_sent_recorded",
        "from_session",
        "model",
    }


def test_the_database_refuses_to_update_a_line(session: Session) -> None:
    _append(session, "k")

    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(update(Interaction).values(status="failed"))


def test_the_database_refuses_to_delete_a_line(session: Session) -> None:
    _append(session, "k")

    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(delete(Interaction))

    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        [line] = InteractionRepository.from_session(session).list_for_invoice("F-1")
        session.delete(line)
        session.flush()


def test_the_database_refuses_to_empty_the_log(session: Session) -> None:
    # SQLite has no TRUNCATE: its way of emptying a table is a DELETE without WHERE.
    empty = {"postgresql": "TRUNCATE interactions", "sqlite": "DELETE FROM interactions"}
    _append(session, "k")

    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(empty[session.get_bind().dialect.name]))


def _heard(
    session: Session,
    key: str,
    when: str,
    *,
    channel: str = "whatsapp",
    kind: str = "reply_received",
) -> None:
    InteractionRepository.from_session(session).append(
        event_key=key,
        occurred_at=at(when),
        invoice_number="F-1",
        customer_id="C-1",
        workflow_id="invoice-F-1",
        kind=kind,
        channel=channel,
        status="received",
        detail={"text": "Pago el viernes"},
    )


def test_last_inbound_at_is_the_customer_s_latest_message_on_that_channel(
    session: Session,
) -> None:
    interactions = InteractionRepository.from_session(session)
    assert interactions.last_inbound_at("C-1", "whatsapp") is None

    _heard(session, "twilio:SM1", "2025-04-01 10:00")
    _heard(session, "twilio:SM2", "2025-04-02 09:30", kind="opt_in")
    _heard(session, "twilio:SM3", "2025-04-01 12:00")
    _heard(session, "twilio:SM4", "2025-04-03 08:00", channel="sms")
    # What we sent, and the workflow's own lines, are not the customer writing to us.
    _append(session, "invoice-F-1#7", occurred_at=at("2025-04-04 10:00"))

    last = interactions.last_inbound_at("C-1", "whatsapp")
    assert last == at("2025-04-02 09:30") and last.tzinfo is not None
    assert interactions.last_inbound_at("C-1", "sms") == at("2025-04-03 08:00")
    assert interactions.last_inbound_at("C-2", "whatsapp") is None
