"""A debtor's reply is recorded on the channel it came by: that is what opens WhatsApp's
24-hour window for free-form text (``InteractionRepository.last_inbound_at``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from temporalio.client import Client

from activities.channels.base import whatsapp_free_form_allowed
from api import provider_events
from api.webhooks.twilio import InboundReply
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.models import OutboxMessage
from ledger.repositories import InteractionRepository
from tests.ledger_support import make_invoice, sqlite_url

PHONE = "+56911111111"  # the customer's SMS and WhatsApp number alike


async def test_a_whatsapp_reply_after_an_sms_opens_the_whatsapp_window(tmp_path: Path) -> None:
    engine = create_ledger_engine(sqlite_url(tmp_path))
    sessions = make_session_factory(engine)
    with unit_of_work(sessions) as session:
        make_invoice(session, "F-1001", customer_id="C-1")
        session.add(
            OutboxMessage(
                idempotency_key="invoice-F-1001:overdue_3:sms",
                invoice_number="F-1001",
                customer_id="C-1",
                workflow_id="invoice-F-1001",
                step_id="overdue_3",
                channel="sms",
                provider="twilio",
                template="overdue",
                locale="es_CL",
                recipient=PHONE,
                body="Su factura está vencida",
                status="sent",
                provider_message_id="SM0001",
                created_at=datetime.now(UTC),
            )
        )
    reply = InboundReply(
        provider_message_id="SM0100",
        sender=PHONE,
        channel="whatsapp",
        body="Pago el viernes",
        opt_out=False,
        opt_in=False,
    )

    # No Temporal call for a plain reply: it becomes a collector's task.
    outcome = await provider_events.twilio_reply(cast(Client, None), sessions, reply)

    assert outcome.recorded
    with unit_of_work(sessions) as session:
        interactions = InteractionRepository.from_session(session)
        heard = interactions.last_inbound_at("C-1", "whatsapp")
        assert heard is not None
        assert interactions.last_inbound_at("C-1", "sms") is None
    assert whatsapp_free_form_allowed(heard, heard + timedelta(hours=1))
    assert not whatsapp_free_form_allowed(heard, heard + timedelta(hours=25))
    engine.dispose()
