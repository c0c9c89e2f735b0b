"""The activities: thin shells that hand units of work to the ledger writer or call a provider.

Every one is idempotent. A send writes its outbox row (keyed by the idempotency key) before
the provider is called, so a retry after a crash finds the row and does not send twice once
it is marked sent; timeline events are keyed by workflow id and sequence number.

They are coroutines: their ledger writes go to one writer thread that commits the units of
work arriving together in one transaction (``ledger.group_commit``), and the providers'
blocking SDK calls run on a thread pool of their own. No activity holds a thread while it
waits for the disk or for its turn at the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.channels.base import (
    ChannelSender,
    DeliveryDeferred,
    DeliveryRejected,
    OutboundMessage,
    whatsapp_free_form_allowed,
)
from activities.channels.twilio_voice import (
    ADDRESS_INVALID_CODES as VOICE_ADDRESS_INVALID_CODES,
)
from activities.contracts import (
    CONTACT_REQUESTED_SIGNAL,
    CUSTOMER_CONTACT_WORKFLOW,
    ContactRequestDelivery,
    LateContactRecord,
    ProgressReport,
    SendAbandoned,
    SendRequest,
    SendResult,
    contact_workflow_id,
)
from activities.ledger_projection import apply_event_side_effects
from api.portal.tokens import portal_url
from config.settings import Settings
from dunning_policies.calendar import days_past_due
from dunning_policies.engine import instalment_of
from dunning_policies.language import Channel
from dunning_policies.messages import (
    InvoiceLine,
    MessageContext,
    render_message,
    whatsapp_template_variables,
)
from dunning_policies.money import to_minor
from ledger.group_commit import GroupCommit
from ledger.repositories.customers import CustomerRepository
from ledger.repositories.interactions import InteractionRepository
from ledger.repositories.invoices import InvoiceRepository
from ledger.repositories.outbox import OutboxRepository

log = structlog.get_logger()
T = TypeVar("T")

# The address itself is unusable: an invalid or non-mobile number, or the person sent STOP.
ADDRESS_INVALID_CODES = (
    frozenset({"twilio_21211", "twilio_21614", "twilio_21610", "no_address"})
    | VOICE_ADDRESS_INVALID_CODES
)


@dataclass(frozen=True)
class _Claimed:
    """What the send learned in its first unit of work: the rendered message and its row."""

    status: str
    outbound: OutboundMessage
    provider: str | None
    provider_message_id: str | None
    error_code: str | None
    error: str | None


class DunningActivityImpl:
    def __init__(
        self,
        ledger: GroupCommit,
        senders: Mapping[Channel, ChannelSender],
        settings: Settings,
        provider_calls: Executor,
    ) -> None:
        self._ledger = ledger
        self._senders = senders
        self._settings = settings
        self._provider_calls = provider_calls

    @activity.defn(name="send_message")
    async def send_message(self, request: SendRequest) -> SendResult:
        # An attempt may wait long on a slow provider, but a worker that died under it is
        # noticed by the missing heartbeats in seconds, and the send is retried elsewhere.
        return await _heartbeating(self._send_message(request))

    async def _send_message(self, request: SendRequest) -> SendResult:
        bound = log.bind(
            invoice=request.invoice_number,
            customer=request.customer_id,
            workflow=request.workflow_id,
            step=request.step_id,
            channel=request.channel.value,
        )
        sender = self._senders[request.channel]
        claimed = await self._ledger.run(lambda session: self._claim(session, request))
        if isinstance(claimed, SendResult):
            return claimed
        if claimed.status == "sent":
            bound.info("already sent before a retry; not sending again")
            return SendResult(
                status="sent",
                provider=claimed.provider or "",
                provider_message_id=claimed.provider_message_id,
            )
        if claimed.status == "failed":
            return SendResult(
                status="rejected",
                provider=claimed.provider or sender.provider,
                code=claimed.error_code,
                reason=claimed.error,
                address_invalid=claimed.error_code in ADDRESS_INVALID_CODES,
            )
        try:
            provider_message_id = await self._deliver(sender, claimed.outbound)
        except DeliveryRejected as rejected:
            code, reason = rejected.code, rejected.reason
            await self._ledger.run(
                lambda session: OutboxRepository.from_session(session).record_failed(
                    request.idempotency_key, provider=sender.provider, error_code=code, error=reason
                )
            )
            bound.warning("provider rejected the message", code=code, reason=reason)
            return SendResult(
                status="rejected",
                provider=sender.provider,
                code=code,
                reason=reason,
                address_invalid=code in ADDRESS_INVALID_CODES,
            )
        except DeliveryDeferred as deferred:
            bound.warning("delivery deferred; retrying", code=deferred.code, reason=deferred.reason)
            raise ApplicationError(
                f"{deferred.code}: {deferred.reason}", type="DeliveryDeferred"
            ) from deferred
        await self._ledger.run(
            lambda session: OutboxRepository.from_session(session).record_sent(
                request.idempotency_key,
                provider=sender.provider,
                provider_message_id=provider_message_id,
                sent_at=_utcnow(),
            )
        )
        bound.info(
            "message sent", provider=sender.provider, provider_message_id=provider_message_id
        )
        return SendResult(
            status="sent", provider=sender.provider, provider_message_id=provider_message_id
        )

    async def _deliver(self, sender: ChannelSender, outbound: OutboundMessage) -> str:
        if not sender.blocking:
            return sender.send(outbound)
        return await asyncio.get_running_loop().run_in_executor(
            self._provider_calls, sender.send, outbound
        )

    def _claim(self, session: Session, request: SendRequest) -> _Claimed | SendResult:
        """Render the message and write its outbox row, or find the row a former attempt wrote."""
        sender = self._senders[request.channel]
        customer = CustomerRepository.from_session(session).snapshot(request.customer_id)
        if customer is None:
            raise ApplicationError(
                f"customer {request.customer_id} is not in the ledger", non_retryable=True
            )
        recipient = customer.address_for(request.channel)
        if not recipient:
            return SendResult(
                status="rejected",
                provider=sender.provider,
                code="no_address",
                reason=f"customer has no {request.channel.value} address on file",
                address_invalid=True,
            )
        context = MessageContext(
            company_name=self._settings.company_name,
            customer_name=customer.name,
            invoice_number=request.invoice_number,
            amount_due=request.amount_due,
            original_amount=request.original_amount,
            currency=request.currency,
            due_date=request.due_on,
            days_overdue=days_past_due(request.due_on, request.scheduled_at, customer.timezone),
            # Signed for today's date: a retry today renders the same link.
            portal_url=portal_url(
                self._settings, request.customer_id, request.invoice_number, issued_at=_utcnow()
            ),
            tone=request.tone.value,
            locale=customer.locale,
            invoices=tuple(
                InvoiceLine(
                    invoice_number=line.invoice_number,
                    amount_due=line.amount_due,
                    due_date=line.due_on,
                    days_overdue=days_past_due(
                        line.due_on, request.scheduled_at, customer.timezone
                    ),
                )
                for line in request.invoices
            ),
            instalment_number=instalment_of(request.step_id),
        )
        rendered = render_message(request.template, request.channel.value, context)
        free_form_allowed, template_variables = True, tuple[tuple[str, str], ...]()
        if request.channel is Channel.WHATSAPP:
            # Judged at every attempt, never stored: a retry sees the window as it is now.
            last_inbound = InteractionRepository.from_session(session).last_inbound_at(
                request.customer_id, Channel.WHATSAPP.value
            )
            free_form_allowed = whatsapp_free_form_allowed(last_inbound, _utcnow())
            template_variables = tuple(
                (str(number), value)
                for number, value in enumerate(whatsapp_template_variables(context), start=1)
            )
        row = OutboxRepository.from_session(session).claim_state(
            idempotency_key=request.idempotency_key,
            invoice_number=request.invoice_number,
            customer_id=request.customer_id,
            workflow_id=request.workflow_id,
            step_id=request.step_id,
            channel=request.channel.value,
            template=request.template,
            locale=customer.locale,
            recipient=recipient,
            subject=rendered.subject,
            body=rendered.body,
            scheduled_local=request.scheduled_at.astimezone(
                ZoneInfo(customer.timezone)
            ).isoformat(),
        )
        return _Claimed(
            status=row.status,
            # The stored text, not this render: a retry sends what the first attempt rendered.
            outbound=OutboundMessage(
                idempotency_key=request.idempotency_key,
                channel=request.channel.value,
                recipient=row.recipient,
                subject=row.subject,
                body=row.body,
                template=request.template,
                locale=customer.locale,
                free_form_allowed=free_form_allowed,
                template_variables=template_variables,
            ),
            provider=row.provider,
            provider_message_id=row.provider_message_id,
            error_code=row.error_code,
            error=row.error,
        )

    @activity.defn(name="request_contact")
    async def request_contact(self, delivery: ContactRequestDelivery) -> None:
        """Signal-with-start the customer's contact workflow: it starts with the first request
        and a retried delivery is recognised there, so the request counts once."""
        request, start = delivery.request, delivery.start
        workflow_id = contact_workflow_id(start.customer_id)
        await activity.client().start_workflow(
            CUSTOMER_CONTACT_WORKFLOW,
            start,
            id=workflow_id,
            task_queue=activity.info().task_queue,
            start_signal=CONTACT_REQUESTED_SIGNAL,
            start_signal_args=[request],
        )
        log.info(
            "contact requested",
            invoice=request.invoice_number,
            customer=start.customer_id,
            workflow=request.workflow_id,
            step=request.step_id,
            contact_workflow=workflow_id,
        )

    @activity.defn(name="abandon_send")
    async def abandon_send(self, abandoned: SendAbandoned) -> None:
        """Mark the message's outbox row failed after its last retry; a row already sent (an
        attempt that got through at the very end) stays sent."""
        provider = self._senders[abandoned.channel].provider
        key = abandoned.idempotency_key

        def mark(session: Session) -> bool:
            outbox = OutboxRepository.from_session(session)
            if outbox.get(key) is None:
                return False
            outbox.record_failed(
                key, provider=provider, error_code="retries_exhausted", error=abandoned.reason
            )
            return True

        marked = await self._ledger.run(mark)
        log.warning(
            "send abandoned after its retries",
            invoice=abandoned.invoice_number,
            customer=abandoned.customer_id,
            workflow=abandoned.workflow_id,
            idempotency_key=key,
            channel=abandoned.channel.value,
            outbox_row=marked,
            reason=abandoned.reason,
        )

    @activity.defn(name="record_late_contact")
    async def record_late_contact(self, record: LateContactRecord) -> None:
        """The contact went out as its invoice closed: record it in the bitácora all the same,
        under a key of its own so a retry records it once."""

        def append(session: Session) -> bool:
            interactions = InteractionRepository.from_session(session)
            # Told again after the invoice had recorded it and closed (a request retried by a
            # restarted worker asks for a message already sent): it is on the record once.
            if interactions.message_sent_recorded(record.invoice_number, record.step_id):
                return False
            detail = {
                "idempotency_key": record.idempotency_key,
                "provider": record.provider,
                "provider_message_id": record.provider_message_id or "",
                "recorded_by": "customer contact workflow: the invoice had closed",
            }
            if record.consolidated_with:
                detail["consolidated_with"] = ", ".join(record.consolidated_with)
            return interactions.append(
                event_key=f"{record.invoice_workflow_id}#sent-after-close:{record.idempotency_key}",
                occurred_at=record.sent_at,
                invoice_number=record.invoice_number,
                customer_id=record.customer_id,
                workflow_id=record.invoice_workflow_id,
                kind="message_sent",
                step_id=record.step_id,
                channel=record.channel.value,
                template=record.template,
                status="sent",
                detail=detail,
            )

        appended = await self._ledger.run(append)
        log.info(
            "contact recorded after its invoice closed",
            invoice=record.invoice_number,
            customer=record.customer_id,
            workflow=record.invoice_workflow_id,
            step=record.step_id,
            appended=appended,
        )

    @activity.defn(name="record_progress")
    async def record_progress(self, report: ProgressReport) -> None:
        await self._ledger.run(lambda session: _write_progress(session, report))
        if report.events:
            log.info(
                "progress recorded",
                invoice=report.invoice_number,
                customer=report.customer_id,
                workflow=report.workflow_id,
                stage=report.stage,
                events=[e.kind for e in report.events],
            )


def _write_progress(session: Session, report: ProgressReport) -> None:
    interactions = InteractionRepository.from_session(session)
    for event in report.events:
        appended = interactions.append(
            event_key=f"{report.workflow_id}#{event.seq}",
            occurred_at=event.at,
            invoice_number=report.invoice_number,
            customer_id=report.customer_id,
            workflow_id=report.workflow_id,
            kind=event.kind,
            step_id=event.step_id,
            channel=event.channel.value if event.channel else None,
            template=event.template,
            status=event.status,
            detail={
                **event.detail,
                "amount_due": str(event.amount_due),
                **({"tone": event.tone} if event.tone else {}),
            },
        )
        if appended:
            apply_event_side_effects(session, report, event)
    InvoiceRepository.from_session(session).record_projection(
        report.invoice_number,
        stage=report.stage,
        # An overpayment leaves nothing due; the excess is booked as a customer credit.
        amount_due_minor=to_minor(max(report.amount_due, Decimal(0)), report.currency),
        next_action=report.next_action,
        next_action_at=report.next_action_at,
        closed_reason=report.closed_reason,
    )


HEARTBEAT_EVERY = 2.0
"""Seconds between a send's heartbeats: well inside its heartbeat timeout (workflows/retries)."""


async def _heartbeating(work: Coroutine[Any, Any, T]) -> T:
    task = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
        if done:
            return task.result()
        activity.heartbeat()


def _utcnow() -> datetime:
    return datetime.now(UTC)
