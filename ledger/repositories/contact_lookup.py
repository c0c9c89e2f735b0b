"""Who a provider's event is about: the message it refers to, the customer behind an address."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select

from ledger.models import Customer, OutboxMessage
from ledger.repositories.base import Repository


class ContactLookup(Repository[OutboxMessage]):
    model = OutboxMessage

    def message_by_provider_id(self, provider_message_id: str) -> OutboxMessage | None:
        return self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.provider_message_id == provider_message_id)
        ).first()

    def message_by_key(self, idempotency_key: str) -> OutboxMessage | None:
        return self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
        ).first()

    def latest_message_to(self, recipient: str) -> OutboxMessage | None:
        """The last message we sent to an address: a reply is most likely about its invoice."""
        return self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        ).first()

    def customers_at(self, address: str) -> Sequence[Customer]:
        return self.session.scalars(
            select(Customer).where(
                or_(
                    Customer.phone == address,
                    Customer.whatsapp == address,
                    Customer.email == address,
                )
            )
        ).all()

    def customer_by_tax_id(self, tax_id: str) -> Customer | None:
        compact = "".join(ch for ch in tax_id.upper() if ch.isalnum())
        candidates = self.session.scalars(select(Customer).where(Customer.tax_id.is_not(None)))
        for customer in candidates:
            stored = "".join(ch for ch in (customer.tax_id or "").upper() if ch.isalnum())
            if stored == compact:
                return customer
        return None
