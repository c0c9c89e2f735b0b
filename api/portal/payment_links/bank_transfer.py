"""Pay by bank transfer: no network, the company's account details and what to write."""

from __future__ import annotations

from api.portal.payment_links.base import (
    BankTransferInstructions,
    PaymentLinkCreated,
    PaymentLinkRequest,
)
from config.settings import Settings

REFERENCE_LENGTH = 40
"""Chilean and Mexican banks cut a transfer's message at about this many characters."""


def transfer_reference(request: PaymentLinkRequest) -> str:
    """The invoice numbers (what reconciliation matches on); when too many to fit, our link
    id, which leads back to them."""
    numbers = " ".join(line.invoice_number for line in request.lines)
    return numbers if len(numbers) <= REFERENCE_LENGTH else request.link_id


class BankTransferProvider:
    name = "bank_transfer"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def create(self, request: PaymentLinkRequest) -> PaymentLinkCreated:
        s = self._settings
        return PaymentLinkCreated(
            provider=self.name,
            instructions=BankTransferInstructions(
                bank_name=s.bank_name,
                account_holder=s.bank_account_holder,
                account_tax_id=s.bank_account_tax_id,
                account_type=s.bank_account_type,
                account_number=s.bank_account_number,
                receipt_email=s.bank_transfer_email,
                amount=request.total,
                currency=request.currency,
                reference=transfer_reference(request),
            ),
        )
