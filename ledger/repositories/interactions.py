"""The bitácora: every contact and event, append-only (no update or delete exists, by design)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ledger.models import Interaction
from ledger.repositories.base import Repository


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
        """Add one line; False when ``event_key`` was already recorded (an activity retry)."""
        return self._insert_if_absent(
            {
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
            },
            conflict_on="event_key",
        )

    def list_for_invoice(self, number: str) -> Sequence[Interaction]:
        return self._list(Interaction.invoice_number == number)

    def list_for_customer(self, customer_id: str) -> Sequence[Interaction]:
        return self._list(Interaction.customer_id == customer_id)

    def _list(self, condition: Any) -> Sequence[Interaction]:
        # id breaks ties between events of the same instant in the order they were recorded.
        return self.session.scalars(
            select(Interaction).where(condition).order_by(Interaction.occurred_at, Interaction.id)
        ).all()
