"""What a pay button needs from a payment-link provider, whichever it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class PaymentLinkLine:
    invoice_number: str
    amount_due: Decimal
    due_on: date


@dataclass(frozen=True)
class PaymentLinkRequest:
    link_id: str
    """Ours, stored in payment_links; the provider's idempotency key and external reference."""
    customer_id: str
    customer_name: str
    customer_email: str | None
    lines: tuple[PaymentLinkLine, ...]
    total: Decimal
    currency: str
    return_url: str
    """Where the provider sends the customer back: their portal page."""
    language: str = "es"


@dataclass(frozen=True)
class BankTransferInstructions:
    bank_name: str
    account_holder: str
    account_tax_id: str
    account_type: str
    account_number: str
    receipt_email: str
    amount: Decimal
    currency: str
    reference: str
    """What the customer writes in the transfer's message, so the payment finds its invoices."""


@dataclass(frozen=True)
class PaymentLinkCreated:
    provider: str
    url: str | None = None
    """Where the customer pays (a hosted checkout); None for instructions shown on our page."""
    provider_reference: str | None = None
    instructions: BankTransferInstructions | None = None


class PaymentLinkFailed(Exception):
    """The provider refused or could not be reached; ``str()`` says what it answered."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider


class PaymentLinkProvider(Protocol):
    name: str

    def create(self, request: PaymentLinkRequest) -> PaymentLinkCreated:
        """Blocking (an SDK's HTTP call): run it off the event loop."""
        ...
