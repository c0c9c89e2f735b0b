"""The outbox: each message is written before its provider is called, so it is sent only once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from ledger.models import OutboxMessage
from ledger.repositories.base import RecordNotFound, Repository


class OutboxRepository(Repository[OutboxMessage]):
    model = OutboxMessage

    def claim(
        self,
        *,
        idempotency_key: str,
        invoice_number: str,
        customer_id: str,
        workflow_id: str,
        step_id: str,
        channel: str,
        template: str,
        locale: str,
        recipient: str,
        subject: str | None,
        body: str,
        scheduled_local: str | None,
    ) -> OutboxMessage:
        """Take the message for one send attempt and return it.

        The first claim stores the message as 'pending' with attempts = 1. A later claim (an
        activity retry) keeps the stored content — the text first rendered is the text sent —
        counts one more attempt and puts a failed message back to 'pending'. A message already
        'sent' is returned untouched: the caller must not send it again.
        """
        self._upsert(
            {
                "idempotency_key": idempotency_key,
                "invoice_number": invoice_number,
                "customer_id": customer_id,
                "workflow_id": workflow_id,
                "step_id": step_id,
                "channel": channel,
                "template": template,
                "locale": locale,
                "recipient": recipient,
                "subject": subject,
                "body": body,
                "scheduled_local": scheduled_local,
                "status": "pending",
                "attempts": 1,
            },
            conflict_on="idempotency_key",
            update={"attempts": OutboxMessage.attempts + 1, "status": "pending"},
            update_when=OutboxMessage.status != "sent",
        )
        return self._by_key(idempotency_key, refresh=True)

    def mark_sent(
        self,
        idempotency_key: str,
        *,
        provider: str,
        provider_message_id: str | None,
        sent_at: datetime,
    ) -> OutboxMessage:
        """Record the provider's acceptance. The first recorded send wins; repeats are no-ops."""
        message = self._by_key(idempotency_key)
        if message.status == "sent":
            return message
        message.status = "sent"
        message.provider = provider
        message.provider_message_id = provider_message_id
        message.sent_at = sent_at
        message.error_code = None
        message.error = None
        self.session.flush()
        return message

    def mark_failed(
        self, idempotency_key: str, *, provider: str, error_code: str | None, error: str
    ) -> OutboxMessage:
        """Record why the provider refused; a message already sent stays sent."""
        message = self._by_key(idempotency_key)
        if message.status == "sent":
            return message
        message.status = "failed"
        message.provider = provider
        message.error_code = error_code
        message.error = error
        self.session.flush()
        return message

    def get(self, idempotency_key: str) -> OutboxMessage | None:
        return self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
        ).one_or_none()

    def list_messages(self, *, invoice_number: str | None = None) -> Sequence[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if invoice_number is not None:
            query = query.where(OutboxMessage.invoice_number == invoice_number)
        return self.session.scalars(query).all()

    def _by_key(self, idempotency_key: str, *, refresh: bool = False) -> OutboxMessage:
        message = self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.idempotency_key == idempotency_key)
            .execution_options(populate_existing=refresh)
        ).one_or_none()
        if message is None:
            raise RecordNotFound(f"no outbox message with idempotency key {idempotency_key!r}")
        return message
