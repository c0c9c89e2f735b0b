"""Payment links: what a portal pay button made, with which provider, for which invoices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from dunning_policies.money import validate_currency
from ledger.models import PaymentLink
from ledger.repositories.base import Repository


class PaymentLinkRepository(Repository[PaymentLink]):
    model = PaymentLink

    def get(self, link_id: str) -> PaymentLink | None:
        return self._get(link_id)

    def add(
        self,
        *,
        id: str,
        customer_id: str,
        invoice_numbers: Sequence[str],
        provider: str,
        provider_reference: str | None,
        url: str | None,
        amount_minor: int,
        currency: str,
    ) -> PaymentLink:
        if amount_minor <= 0:
            raise ValueError(f"payment link {id}: amount_minor must be positive")
        if not invoice_numbers:
            raise ValueError(f"payment link {id}: no invoices")
        link = PaymentLink(
            id=id,
            customer_id=customer_id,
            invoice_numbers=list(invoice_numbers),
            provider=provider,
            provider_reference=provider_reference,
            url=url,
            amount_minor=amount_minor,
            currency=validate_currency(currency),
            status="open",
        )
        self.session.add(link)
        self.session.flush()
        return link

    def reusable(
        self,
        *,
        customer_id: str,
        invoice_numbers: Sequence[str],
        provider: str,
        amount_minor: int,
        currency: str,
        since: datetime,
    ) -> PaymentLink | None:
        """An open link made since ``since`` for exactly these invoices and this amount: a
        second tap on the pay button goes to the same checkout instead of making another."""
        wanted = sorted(invoice_numbers)
        candidates = self.session.scalars(
            select(PaymentLink)
            .where(
                PaymentLink.customer_id == customer_id,
                PaymentLink.provider == provider,
                PaymentLink.status == "open",
                PaymentLink.amount_minor == amount_minor,
                PaymentLink.currency == currency,
                PaymentLink.created_at >= since,
                PaymentLink.url.is_not(None),
            )
            .order_by(PaymentLink.created_at.desc())
        )
        return next((c for c in candidates if sorted(c.invoice_numbers) == wanted), None)

    def list_for_customer(self, customer_id: str) -> Sequence[PaymentLink]:
        return self.session.scalars(
            select(PaymentLink)
            .where(PaymentLink.customer_id == customer_id)
            .order_by(PaymentLink.created_at.desc(), PaymentLink.id)
        ).all()
