"""Pay through Mercado Pago Checkout Pro: a preference per pay button, through the official
SDK. The customer is sent to its ``init_point``; Mercado Pago sends them back to the portal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import mercadopago
import requests
import structlog
from mercadopago.config import RequestOptions
from mercadopago.errors.exceptions import MercadoPagoError
from mercadopago.http import HttpClient

from api.portal.payment_links.base import (
    PaymentLinkCreated,
    PaymentLinkFailed,
    PaymentLinkRequest,
)
from config.settings import Settings
from dunning_policies.money import currency_exponent

log = structlog.get_logger()

API_BASE_URL = "https://api.mercadopago.com"
"""Fixed inside the SDK (``Config.__api_base_url``); see ``RebasedHttpClient``."""
TIMEOUT_SECONDS = 15.0
MAX_RETRIES = 2
ITEM_TITLES = {"es": "Factura {number}", "en": "Invoice {number}"}


class RebasedHttpClient(HttpClient):
    """The SDK's own HTTP client, sending to another base URL (a loopback fake in tests, a
    proxy in production): everything else the SDK does — headers, JSON, errors — stays real."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url.rstrip("/")

    def request(
        self,
        method: str,
        url: str,
        maxretries: int | None = None,
        retry_on: Any = None,
        backoff_factor: float | None = None,
        **kwargs: Any,
    ) -> Any:
        if url.startswith(API_BASE_URL):
            url = self._base_url + url[len(API_BASE_URL) :]
        return super().request(
            method,
            url,
            maxretries=maxretries,
            retry_on=retry_on,
            backoff_factor=backoff_factor,
            **kwargs,
        )


def _json_number(amount: Decimal, currency: str) -> int | float:
    # Mercado Pago reads unit_price as a JSON number and the SDK encodes with the standard
    # JSONEncoder, which has no Decimal. A whole amount goes as an integer; a two-decimal
    # amount's float repr prints back exactly those two decimals.
    if currency_exponent(currency) == 0 or amount == amount.to_integral_value():
        return int(amount)
    return float(amount)


def preference_body(request: PaymentLinkRequest) -> dict[str, Any]:
    title = ITEM_TITLES.get(request.language, ITEM_TITLES["es"])
    body: dict[str, Any] = {
        "items": [
            {
                "id": line.invoice_number,
                "title": title.format(number=line.invoice_number),
                "quantity": 1,
                "unit_price": _json_number(line.amount_due, request.currency),
                "currency_id": request.currency,
            }
            for line in request.lines
        ],
        "payer": {"name": request.customer_name},
        "external_reference": request.link_id,
        "back_urls": {
            "success": request.return_url,
            "pending": request.return_url,
            "failure": request.return_url,
        },
        "auto_return": "approved",
        "metadata": {"customer_id": request.customer_id, "payment_link_id": request.link_id},
    }
    if request.customer_email:
        body["payer"]["email"] = request.customer_email
    return body


class MercadoPagoProvider:
    name = "mercadopago"

    def __init__(self, settings: Settings) -> None:
        token = settings.mercadopago_access_token.get_secret_value()
        if not token:
            raise ValueError(
                "payment_link_provider is mercadopago but DUNNING_MERCADOPAGO_ACCESS_TOKEN is empty"
            )
        base_url = settings.mercadopago_api_base_url
        http_client = RebasedHttpClient(base_url) if base_url else None
        self._access_token = token
        self._sdk = mercadopago.SDK(token, http_client=http_client)

    def create(self, request: PaymentLinkRequest) -> PaymentLinkCreated:
        options = RequestOptions(
            access_token=self._access_token,
            connection_timeout=TIMEOUT_SECONDS,
            max_retries=MAX_RETRIES,
            # Lower-case, to replace the random key the SDK puts in every request's headers:
            # a retried create of the same link must not make a second preference.
            custom_headers={"x-idempotency-key": request.link_id},
        )
        invoices = [line.invoice_number for line in request.lines]
        try:
            result = self._sdk.preference(options).create(preference_body(request))
        except (MercadoPagoError, requests.RequestException) as error:
            log.error(
                "mercadopago preference failed",
                customer=request.customer_id,
                invoices=invoices,
                link=request.link_id,
                error=str(error),
            )
            raise PaymentLinkFailed(self.name, str(error)) from error
        answer = result.get("response") or {}
        status = result.get("status", 0)
        if not 200 <= status < 300 or not answer.get("init_point") or not answer.get("id"):
            message = (answer.get("message") if isinstance(answer, dict) else None) or str(answer)
            log.error(
                "mercadopago refused the preference",
                customer=request.customer_id,
                invoices=invoices,
                link=request.link_id,
                status=status,
                error=message,
            )
            raise PaymentLinkFailed(self.name, f"HTTP {status}: {message}")
        log.info(
            "mercadopago preference created",
            customer=request.customer_id,
            invoices=invoices,
            link=request.link_id,
            preference=answer["id"],
        )
        return PaymentLinkCreated(
            provider=self.name, url=str(answer["init_point"]), provider_reference=str(answer["id"])
        )
