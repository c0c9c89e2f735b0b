"""The bitácora: every contact and event, append-only (no update or delete exists, by design).

Each line carries the hash of its customer's previous line (``ledger.audit``), so an edit or a
deletion made behind the application's back shows up in ``dunning audit verify``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text

from ledger.audit import GENESIS, content_hash
from ledger.models import Interaction
from ledger.repositories.base import Repository

INBOUND_KINDS = ("reply_received", "opt_out", "opt_in")
"""Lines that record a message the customer sent us (``api.provider_events.twilio_reply``)."""


class InteractionRepository(Repository[Interaction]):
    model = Interaction

    def append(
        self,
        *,
        event_key: str,
        occurred_at: datetime,
        invoice_number: str,
        customer_id: str,
        workflow_id: str,
        kind: str,
        step_id: str | None = None,
        channel: str | None = None,
        template: str | None = None,
        status: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        """Add one line; False when ``event_key`` was already recorded (an activity retry).

        The line is chained to the customer's last line. Two writers appending for the same
        customer must not both chain to the same predecessor (the chain would fork): on
        PostgreSQL a transaction-scoped advisory lock per customer serialises them until
        commit; SQLite's units of work already hold the database's write lock (BEGIN IMMEDIATE).
        """
        self._lock_chain(customer_id)
        if self._recorded(event_key):
            return False
        values: dict[str, Any] = {
            "event_key": event_key,
            "occurred_at": occurred_at,
            "invoice_number": invoice_number,
            "customer_id": customer_id,
            "workflow_id": workflow_id,
            "kind": kind,
            "step_id": step_id,
            "channel": channel,
            "template": template,
            "status": status,
            "detail": dict(detail or {}),
        }
        prev_hash = self._last_hash(customer_id)
        values["prev_hash"] = prev_hash
        values["row_hash"] = content_hash(values, prev_hash)
        return self._insert_if_absent(values, conflict_on="event_key")

    def _lock_chain(self, customer_id: str) -> None:
        if self._dialect == "postgresql":
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:customer_id))"),
                {"customer_id": customer_id},
            )

    def _recorded(self, event_key: str) -> bool:
        found = self.session.scalar(
            select(Interaction.id).where(Interaction.event_key == event_key).limit(1)
        )
        return found is not None

    def _last_hash(self, customer_id: str) -> str:
        """The hash the customer's next line links to (flushing this unit's own lines first)."""
        last = self.session.scalar(
            select(Interaction.row_hash)
            .where(Interaction.customer_id == customer_id)
            .order_by(Interaction.id.desc())
            .limit(1)
        )
        return last or GENESIS

    def list_for_invoice(self, number: str) -> Sequence[Interaction]:
        return self._list(Interaction.invoice_number == number)

    def list_for_customer(self, customer_id: str) -> Sequence[Interaction]:
        return self._list(Interaction.customer_id == customer_id)

    def message_sent_recorded(self, invoice_number: str, step_id: str) -> bool:
        """Whether the bitácora already says the step's message went out."""
        return (
            self.session.scalar(
                select(Interaction.id)
                .where(
                    Interaction.invoice_number == invoice_number,
                    Interaction.step_id == step_id,
                    Interaction.kind == "message_sent",
                )
                .limit(1)
            )
            is not None
        )

    def last_inbound_at(self, customer_id: str, channel: str) -> datetime | None:
        """When the customer last wrote to us on ``channel`` (a reply, STOP, START…), or None.
        WhatsApp lets a business answer in free-form text for 24 hours after that moment."""
        # The customer_id index narrows this to one customer's lines: no index of its own.
        return self.session.scalar(
            select(func.max(Interaction.occurred_at)).where(
                Interaction.customer_id == customer_id,
                Interaction.channel == channel,
                Interaction.kind.in_(INBOUND_KINDS),
            )
        )

    def _list(self, condition: Any) -> Sequence[Interaction]:
        # id breaks ties between events of the same instant in the order they were recorded.
        return self.session.scalars(
            select(Interaction).where(condition).order_by(Interaction.occurred_at, Interaction.id)
        ).all()
