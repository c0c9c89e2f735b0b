"""What the providers tell us after a send: delivery statuses, bounces, replies, opt-outs.

Every event lands in the bitácora (keyed by the provider's own event id, so a webhook
delivered twice is recorded once); a bounce or an opt-out closes the channel for the
customer; a reply that promises a date ("PAGARÉ 30/11") becomes a promise on the customer's
oldest open invoice; any other reply becomes a collector task with its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api import agreements, contact_preferences
from api.webhooks.keywords import normalize_keyword
from api.webhooks.promise_reply import PROMISE_WORDS, parse_promise_reply
from api.webhooks.sendgrid import EmailEvent
from api.webhooks.twilio import DeliveryStatus, InboundReply
from dunning_policies.calendar import local_date
from dunning_policies.language import Channel
from ledger.db import unit_of_work
from ledger.models import OutboxMessage
from ledger.repositories.contact_lookup import ContactLookup
from ledger.repositories.customers import CustomerRepository
from ledger.repositories.interactions import InteractionRepository
from ledger.repositories.tasks import TaskRepository

log = structlog.get_logger()

# Twilio codes that say the number itself is unusable (invalid, landline, unsubscribed).
TWILIO_ADDRESS_INVALID = frozenset({"twilio_21211", "twilio_21614", "twilio_30006"})
TWILIO_OPTED_OUT = frozenset({"twilio_21610"})
REPLY_SLA = timedelta(hours=24)


@dataclass(frozen=True)
class EventOutcome:
    recorded: bool
    invoice_number: str | None = None
    note: str = ""


def _record(
    session: Session,
    message: OutboxMessage,
    key: str,
    kind: str,
    status: str,
    at: datetime,
    detail: dict[str, str],
    channel: Channel | None = None,
) -> bool:
    """``channel``: where the event happened, when not the message's own channel (a reply)."""
    return InteractionRepository.from_session(session).append(
        event_key=key,
        occurred_at=at,
        invoice_number=message.invoice_number,
        customer_id=message.customer_id,
        workflow_id=message.workflow_id,
        kind=kind,
        step_id=message.step_id,
        channel=channel.value if channel else message.channel,
        template=message.template,
        status=status,
        detail=detail,
    )


async def twilio_status(
    client: Client, sessions: sessionmaker[Session], event: DeliveryStatus
) -> EventOutcome:
    now = datetime.now(UTC)
    with unit_of_work(sessions) as session:
        message = ContactLookup.from_session(session).message_by_provider_id(
            event.provider_message_id
        )
        if message is None:
            log.warning("status for a message we did not send", sid=event.provider_message_id)
            return EventOutcome(False, note="unknown message")
        recorded = _record(
            session,
            message,
            f"twilio:{event.provider_message_id}:{event.raw_status}",
            "delivery_status",
            event.status,
            now,
            {"provider": "twilio", "error_code": event.error_code or ""},
        )
        customer_id, channel, recipient, invoice = (
            message.customer_id,
            Channel(message.channel),
            message.recipient,
            message.invoice_number,
        )
    if recorded and event.error_code in TWILIO_ADDRESS_INVALID:
        await contact_preferences.address_invalid(
            client, sessions, customer_id, channel, address=recipient, reason=event.error_code or ""
        )
    elif recorded and event.error_code in TWILIO_OPTED_OUT:
        await contact_preferences.opt_out(
            client, sessions, customer_id, channel, address=recipient, source="twilio: 21610"
        )
    return EventOutcome(recorded, invoice)


async def twilio_reply(
    client: Client, sessions: sessionmaker[Session], reply: InboundReply
) -> EventOutcome:
    now = datetime.now(UTC)
    channel = Channel(reply.channel)
    with unit_of_work(sessions) as session:
        lookup = ContactLookup.from_session(session)
        message = lookup.latest_message_to(reply.sender)
        customers = [c.id for c in lookup.customers_at(reply.sender)]
        if message is None or not customers:
            log.warning("reply from an address we never wrote to", channel=channel.value)
            return EventOutcome(False, note="unknown sender")
        kind = "opt_out" if reply.opt_out else "opt_in" if reply.opt_in else "reply_received"
        recorded = _record(
            session,
            message,
            f"twilio:{reply.provider_message_id}",
            kind,
            "received",
            now,
            {"text": reply.body},
            # The reply's own channel: a WhatsApp message opens WhatsApp's 24-hour window
            # even when our last message to this number was an SMS.
            channel=channel,
        )
        promised = (
            _promised_date(session, message.customer_id, reply.body, now)
            if recorded and kind == "reply_received"
            else None
        )
        if recorded and kind == "reply_received" and promised is None:
            _open_reply_task(session, message, reply, now)
        invoice, customer_id = message.invoice_number, message.customer_id
    if promised is not None:
        # "PAGARÉ 30/11": a promise on the customer's oldest open invoice; refused, the reply
        # goes to a collector like any other.
        promised_on = await agreements.promise_from_reply(
            client, sessions, customer_id, promised, reply.body
        )
        if promised_on is not None:
            return EventOutcome(recorded, promised_on, "promise")
        with unit_of_work(sessions) as session:
            found = ContactLookup.from_session(session).latest_message_to(reply.sender)
            if found is not None:
                _open_reply_task(session, found, reply, now)
    if recorded and reply.opt_out:
        for customer_id in customers:
            await contact_preferences.opt_out(
                client,
                sessions,
                customer_id,
                channel,
                address=reply.sender,
                source=f"{channel.value} reply {reply.body.strip()!r}",
            )
    elif recorded and reply.opt_in:
        for customer_id in customers:
            await contact_preferences.opt_in(
                client, sessions, customer_id, channel, f"{channel.value} reply"
            )
    return EventOutcome(recorded, invoice, kind)


def _promised_date(session: Session, customer_id: str, text: str, now: datetime) -> date | None:
    customer = CustomerRepository.from_session(session).get(customer_id)
    if customer is None:
        return None
    promised = parse_promise_reply(text, customer.locale, local_date(now, customer.timezone))
    if promised is None and normalize_keyword(text).startswith(PROMISE_WORDS):
        log.info("reply looks like a promise but names no date we can read", customer=customer_id)
    return promised


def _open_reply_task(
    session: Session, message: OutboxMessage, reply: InboundReply, now: datetime
) -> None:
    TaskRepository.from_session(session).open_if_absent(
        id=f"R-{reply.provider_message_id}",
        invoice_number=message.invoice_number,
        customer_id=message.customer_id,
        workflow_id=message.workflow_id,
        queue="replies",
        kind="reply",
        created_at=now,
        sla_due_at=now + REPLY_SLA,
        detail={"text": reply.body, "channel": reply.channel, "from": reply.sender},
    )


async def sendgrid_event(
    client: Client, sessions: sessionmaker[Session], event: EmailEvent
) -> EventOutcome:
    with unit_of_work(sessions) as session:
        lookup = ContactLookup.from_session(session)
        message = (
            lookup.message_by_key(event.idempotency_key) if event.idempotency_key else None
        ) or (
            lookup.message_by_provider_id(event.provider_message_id)
            if event.provider_message_id
            else None
        )
        if message is None:
            log.warning("email event for a message we did not send", event=event.event_id)
            return EventOutcome(False, note="unknown message")
        recorded = _record(
            session,
            message,
            f"sendgrid:{event.event_id}",
            f"email_{event.kind}",
            event.kind,
            event.occurred_at,
            {"provider": "sendgrid", "reason": event.reason or ""},
        )
        customer_id, invoice = message.customer_id, message.invoice_number
    if recorded and event.address_invalid:
        await contact_preferences.address_invalid(
            client,
            sessions,
            customer_id,
            Channel.EMAIL,
            address=event.email,
            reason=f"sendgrid {event.kind}: {event.reason or 'hard bounce'}",
        )
    elif recorded and event.opt_out:
        await contact_preferences.opt_out(
            client,
            sessions,
            customer_id,
            Channel.EMAIL,
            address=event.email,
            source=f"sendgrid {event.kind}",
        )
    return EventOutcome(recorded, invoice)
