"""Channels a customer must not be contacted on, for every invoice, new ones included."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, select

from ledger.models import CONTACT_BLOCK_KINDS, ContactBlock
from ledger.repositories.base import Repository


class ContactBlockRepository(Repository[ContactBlock]):
    model = ContactBlock

    def block(
        self, *, customer_id: str, channel: str, kind: str, address: str | None, reason: str
    ) -> bool:
        """True when the channel was not blocked for that reason before."""
        if kind not in CONTACT_BLOCK_KINDS:
            raise ValueError(f"kind must be one of {', '.join(CONTACT_BLOCK_KINDS)}, got {kind!r}")
        existing = self.session.get(ContactBlock, (customer_id, channel))
        if existing is not None and existing.kind == kind:
            return False
        if existing is None:
            self.session.add(
                ContactBlock(
                    customer_id=customer_id,
                    channel=channel,
                    kind=kind,
                    address=address,
                    reason=reason,
                )
            )
        else:
            existing.kind, existing.address, existing.reason = kind, address, reason
        self.session.flush()
        return True

    def lift_opt_out(self, *, customer_id: str, channel: str) -> bool:
        """An opt-in lifts an opt-out, never an address that bounced."""
        result = self.session.execute(
            delete(ContactBlock).where(
                ContactBlock.customer_id == customer_id,
                ContactBlock.channel == channel,
                ContactBlock.kind == "opted_out",
            )
        )
        return bool(getattr(result, "rowcount", 0))

    def blocked_channels(self, customer_id: str) -> dict[str, str]:
        """Channel → the reason it is blocked. Asked at every issuance: no objects loaded."""
        rows = self.session.execute(_BLOCKS_OF_CUSTOMER, {"customer": customer_id}).all()
        return {channel: f"{kind.replace('_', ' ')}: {reason}" for channel, kind, reason in rows}

    def list_for_customer(self, customer_id: str) -> Sequence[ContactBlock]:
        return self.session.scalars(
            select(ContactBlock).where(ContactBlock.customer_id == customer_id)
        ).all()


_BLOCKS_OF_CUSTOMER = select(ContactBlock.channel, ContactBlock.kind, ContactBlock.reason).where(
    ContactBlock.customer_id == bindparam("customer")
)
