"""Payment-link providers: what the portal's pay button does, chosen by
``settings.payment_link_provider``."""

from __future__ import annotations

from api.portal.payment_links.bank_transfer import BankTransferProvider
from api.portal.payment_links.base import (
    BankTransferInstructions,
    PaymentLinkCreated,
    PaymentLinkFailed,
    PaymentLinkLine,
    PaymentLinkProvider,
    PaymentLinkRequest,
)
from api.portal.payment_links.mercadopago import MercadoPagoProvider
from config.settings import Settings


def payment_link_provider(settings: Settings) -> PaymentLinkProvider:
    if settings.payment_link_provider == "mercadopago":
        return MercadoPagoProvider(settings)
    return BankTransferProvider(settings)


__all__ = [
    "BankTransferInstructions",
    "BankTransferProvider",
    "MercadoPagoProvider",
    "PaymentLinkCreated",
    "PaymentLinkFailed",
    "PaymentLinkLine",
    "PaymentLinkProvider",
    "PaymentLinkRequest",
    "payment_link_provider",
]
