"""What the Twilio senders (messages, calls) share: one client set-up and one reading of errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from activities.channels.base import DeliveryDeferred, DeliveryRejected

_TRANSIENT_CODES = frozenset({20429})  # Twilio's own "too many requests"


class RoutingHttpClient(TwilioHttpClient):
    """Sends every request to ``api_base_url`` instead of ``*.twilio.com`` when one is given,
    so a loopback fake (or a recording proxy) sees exactly what the real SDK would send."""

    def __init__(self, api_base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._base_url = api_base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if self._base_url:
            parts = urlsplit(url)
            if parts.hostname and parts.hostname.endswith("twilio.com"):
                query = f"?{parts.query}" if parts.query else ""
                url = f"{self._base_url}{parts.path}{query}"
        return super().request(method, url, *args, **kwargs)


def build_client(account_sid: str, auth_token: str, api_base_url: str, timeout: float) -> Client:
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    return Client(
        account_sid,
        auth_token,
        http_client=RoutingHttpClient(api_base_url, timeout),
        # Settings are the only source of configuration: an unrelated TWILIO_EDGE or
        # TWILIO_REGION in the environment must not silently re-route production traffic.
        environment={},
    )


@contextmanager
def classified_errors(permanent_codes: frozenset[int]) -> Iterator[None]:
    """Turn whatever a Twilio API call raises into ``DeliveryRejected`` or ``DeliveryDeferred``."""
    try:
        yield
    except (TwilioRestException, TwilioServiceException) as exc:
        raise classify_api_error(exc, permanent_codes) from exc
    except requests.Timeout as exc:
        raise DeliveryDeferred("twilio_timeout", str(exc) or "request timed out") from exc
    except requests.ConnectionError as exc:
        raise DeliveryDeferred("twilio_connection", str(exc) or "connection failed") from exc


def classify_api_error(
    exc: TwilioRestException | TwilioServiceException, permanent_codes: frozenset[int]
) -> DeliveryRejected | DeliveryDeferred:
    status = int(exc.status)
    # The SDK falls back to the HTTP status when the body carries no Twilio code.
    code = int(exc.code) if exc.code is not None else status
    # The legacy error shape carries ``msg``; RFC 9457 problem details carry detail/title.
    reason = str(exc.msg if isinstance(exc, TwilioRestException) else exc.detail or exc.title)
    label = f"twilio_{code}"
    if code in permanent_codes:
        return DeliveryRejected(label, reason)
    if code in _TRANSIENT_CODES or status == 429 or status >= 500:
        return DeliveryDeferred(label, reason)
    if 400 <= status < 500:
        return DeliveryRejected(label, reason)
    # Anything else (a redirect, a 1xx) is the network misbehaving, not a verdict on the message.
    return DeliveryDeferred(label, reason)
