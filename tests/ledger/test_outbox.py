from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ledger.models import OutboxMessage
from ledger.repositories import OutboxRepository, RecordNotFound
from tests.ledger_support import at


def _claim(
    session: Session,
    key: str = "invoice-F-1:d+1-email",
    *,
    invoice_number: str = "F-1",
    body: str = "Estimado cliente…",
) -> OutboxMessage:
    return OutboxRepository.from_session(session).claim(
        idempotency_key=key,
        invoice_number=invoice_number,
        customer_id="C-1",
        workflow_id=f"invoice-{invoice_number}",
        step_id="d+1-email",
        channel="email",
        template="reminder_overdue",
        locale="es_CL",
        recipient="pagos@losandes.cl",
        subject="Factura F-1 vencida",
        body=body,
        scheduled_local="2025-04-01T09:00:00-03:00",
    )


def test_the_first_claim_writes_a_pending_message(session: Session) -> None:
    message = _claim(session)

    assert (message.status, message.attempts) == ("pending", 1)
    assert (message.channel, message.recipient, message.locale) == (
        "email",
        "pagos@losandes.cl",
        "es_CL",
    )
    assert message.scheduled_local == "2025-04-01T09:00:00-03:00"
    assert message.provider is None and message.sent_at is None
    assert OutboxRepository.from_session(session).get("invoice-F-1:d+1-email") is message


def test_a_retry_claims_the_same_row_keeps_its_text_and_counts_the_attempt(
    session: Session,
) -> None:
    first = _claim(session, body="original")

    again = _claim(session, body="re-rendered")

    assert again is first
    assert (again.attempts, again.body) == (2, "original")
    assert len(OutboxRepository.from_session(session).list_messages()) == 1


def test_mark_sent_stores_the_provider_id_and_later_claims_leave_it_alone(
    session: Session,
) -> None:
    _claim(session)
    outbox = OutboxRepository.from_session(session)

    outbox.mark_sent(
        "invoice-F-1:d+1-email",
        provider="sendgrid",
        provider_message_id="SG-1",
        sent_at=at("2025-04-01 12:00"),
    )
    after_crash = _claim(session)

    assert (after_crash.status, after_crash.attempts) == ("sent", 1)
    assert (after_crash.provider, after_crash.provider_message_id) == ("sendgrid", "SG-1")
    assert after_crash.sent_at == at("2025-04-01 12:00")


def test_mark_sent_twice_keeps_the_first_send(session: Session) -> None:
    _claim(session)
    outbox = OutboxRepository.from_session(session)
    outbox.mark_sent(
        "invoice-F-1:d+1-email",
        provider="sendgrid",
        provider_message_id="SG-1",
        sent_at=at("2025-04-01 12:00"),
    )

    again = outbox.mark_sent(
        "invoice-F-1:d+1-email",
        provider="sendgrid",
        provider_message_id="SG-2",
        sent_at=at("2025-04-01 12:05"),
    )

    assert again.provider_message_id == "SG-1"


def test_mark_failed_records_why_and_a_retry_makes_it_pending_again(session: Session) -> None:
    _claim(session)
    outbox = OutboxRepository.from_session(session)

    failed = outbox.mark_failed(
        "invoice-F-1:d+1-email", provider="sendgrid", error_code="429", error="rate limited"
    )
    assert (failed.status, failed.error_code, failed.error) == ("failed", "429", "rate limited")

    retried = _claim(session)
    assert (retried.status, retried.attempts) == ("pending", 2)

    sent = outbox.mark_sent(
        "invoice-F-1:d+1-email",
        provider="sendgrid",
        provider_message_id="SG-1",
        sent_at=at("2025-04-01 12:10"),
    )
    assert (sent.status, sent.error_code, sent.error) == ("sent", None, None)


def test_mark_failed_never_turns_a_sent_message_into_a_failure(session: Session) -> None:
    _claim(session)
    outbox = OutboxRepository.from_session(session)
    outbox.mark_sent(
        "invoice-F-1:d+1-email",
        provider="twilio",
        provider_message_id="SM1",
        sent_at=at("2025-04-01 12:00"),
    )

    message = outbox.mark_failed(
        "invoice-F-1:d+1-email", provider="twilio", error_code="20429", error="late webhook"
    )

    assert message.status == "sent" and message.error is None


def test_marking_an_unknown_message_raises(session: Session) -> None:
    outbox = OutboxRepository.from_session(session)
    with pytest.raises(RecordNotFound):
        outbox.mark_sent(
            "nope", provider="console", provider_message_id=None, sent_at=at("2025-04-01 12:00")
        )
    with pytest.raises(RecordNotFound):
        outbox.mark_failed("nope", provider="console", error_code=None, error="x")
    assert outbox.get("nope") is None


def test_list_messages_in_claim_order_optionally_per_invoice(session: Session) -> None:
    _claim(session, "k-2", invoice_number="F-2")
    _claim(session, "k-1", invoice_number="F-1")
    _claim(session, "k-3", invoice_number="F-2")
    outbox = OutboxRepository.from_session(session)

    assert [m.idempotency_key for m in outbox.list_messages()] == ["k-2", "k-1", "k-3"]
    assert [m.idempotency_key for m in outbox.list_messages(invoice_number="F-2")] == ["k-2", "k-3"]
