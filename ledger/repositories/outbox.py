"""The outbox: each message is written before its provider is called, so it is sent only once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypedDict, Unpack

from sqlalchemy import BindParameter, Update, and_, bindparam, select, update
from sqlalchemy.sql.dml import ReturningInsert

from ledger.models import OutboxMessage
from ledger.repositories.base import RecordNotFound, Repository, dialect_insert, table_of


class OutboxRepository(Repository[OutboxMessage]):
    model = OutboxMessage

    def claim(self, **message: Unpack[OutboxContent]) -> OutboxMessage:
        """Take the message for one send attempt and return its row (see ``claim_state``)."""
        self.claim_state(**message)
        return self._by_key(message["idempotency_key"], refresh=True)

    def claim_state(self, **message: Unpack[OutboxContent]) -> SendState:
        """Take the message for one send attempt; return what the sender must know of it.

        The first claim stores the message as 'pending' with attempts = 1. A later claim (an
        activity retry) keeps the stored content — the text first rendered is the text sent —
        counts one more attempt and puts a failed message back to 'pending'. A message already
        'sent' is returned untouched: the caller must not send it again.
        """
        claimed = self._run(
            _claim_statement(self._dialect), {**message, "status": "pending", "attempts": 1}
        ).first()
        # No row back: the message was already sent, and the upsert's WHERE left it alone.
        row = claimed or self._run(_STATE_BY_KEY, {"key": message["idempotency_key"]}).one()
        return SendState(**row._mapping)

    def mark_sent(
        self,
        idempotency_key: str,
        *,
        provider: str,
        provider_message_id: str | None,
        sent_at: datetime,
    ) -> OutboxMessage:
        """Record the provider's acceptance and return the row (see ``record_sent``)."""
        self.record_sent(
            idempotency_key,
            provider=provider,
            provider_message_id=provider_message_id,
            sent_at=sent_at,
        )
        return self._by_key(idempotency_key, refresh=True)

    def record_sent(
        self,
        idempotency_key: str,
        *,
        provider: str,
        provider_message_id: str | None,
        sent_at: datetime,
    ) -> None:
        """Record the provider's acceptance. The first recorded send wins; repeats are no-ops."""
        self._update_unless_sent(
            _MARK_SENT,
            {
                "key": idempotency_key,
                "new_provider": provider,
                "new_provider_message_id": provider_message_id,
                "new_sent_at": sent_at,
            },
        )

    def mark_failed(
        self, idempotency_key: str, *, provider: str, error_code: str | None, error: str
    ) -> OutboxMessage:
        """Record why the provider refused and return the row; a message already sent stays
        sent."""
        self.record_failed(idempotency_key, provider=provider, error_code=error_code, error=error)
        return self._by_key(idempotency_key, refresh=True)

    def record_failed(
        self, idempotency_key: str, *, provider: str, error_code: str | None, error: str
    ) -> None:
        """Record why the provider refused; a message already sent stays sent."""
        self._update_unless_sent(
            _MARK_FAILED,
            {
                "key": idempotency_key,
                "new_provider": provider,
                "new_error_code": error_code,
                "new_error": error,
            },
        )

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

    def _update_unless_sent(self, statement: Update, params: dict[str, Any]) -> None:
        # One conditional UPDATE: a row already 'sent' is left as it is, atomically. Nothing
        # updated means either that or no such row, which only a second look can tell.
        if self._run(statement, params).rowcount > 0:
            return
        if self._run(_STATE_BY_KEY, {"key": params["key"]}).first() is None:
            raise RecordNotFound(f"no outbox message with idempotency key {params['key']!r}")


class OutboxContent(TypedDict):
    """A message as first rendered for one send (the outbox row's content)."""

    idempotency_key: str
    invoice_number: str
    customer_id: str
    workflow_id: str
    step_id: str
    channel: str
    template: str
    locale: str
    recipient: str
    subject: str | None
    body: str
    scheduled_local: str | None


@dataclass(frozen=True, slots=True)
class SendState:
    """What a sender needs of its claimed outbox row: its state and the stored message."""

    status: str
    provider: str | None
    provider_message_id: str | None
    error_code: str | None
    error: str | None
    recipient: str
    subject: str | None
    body: str


_OUTBOX = table_of(OutboxMessage)
_STATE = (
    _OUTBOX.c.status,
    _OUTBOX.c.provider,
    _OUTBOX.c.provider_message_id,
    _OUTBOX.c.error_code,
    _OUTBOX.c.error,
    _OUTBOX.c.recipient,
    _OUTBOX.c.subject,
    _OUTBOX.c.body,
)
# Parameter names must differ from the columns an UPDATE sets (SQLAlchemy reserves those).
_KEY: BindParameter[str] = bindparam("key")
_STATE_BY_KEY = select(*_STATE).where(_OUTBOX.c.idempotency_key == _KEY)
_NOT_SENT = and_(_OUTBOX.c.idempotency_key == _KEY, _OUTBOX.c.status != "sent")
_MARK_SENT = (
    update(_OUTBOX)
    .where(_NOT_SENT)
    .values(
        status="sent",
        provider=bindparam("new_provider"),
        provider_message_id=bindparam("new_provider_message_id"),
        sent_at=bindparam("new_sent_at"),
        error_code=None,
        error=None,
    )
)
_MARK_FAILED = (
    update(_OUTBOX)
    .where(_NOT_SENT)
    .values(
        status="failed",
        provider=bindparam("new_provider"),
        error_code=bindparam("new_error_code"),
        error=bindparam("new_error"),
    )
)


@cache
def _claim_statement(dialect: str) -> ReturningInsert[Any]:
    # Built once per dialect; the values come as execution parameters.
    return (
        dialect_insert(dialect, _OUTBOX)
        .on_conflict_do_update(
            index_elements=["idempotency_key"],
            set_={"attempts": _OUTBOX.c.attempts + 1, "status": "pending"},
            where=_OUTBOX.c.status != "sent",
        )
        .returning(*_STATE)
    )
