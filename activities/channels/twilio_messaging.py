"""SMS and WhatsApp through Twilio's Messages API, with every failure classified for the engine."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from activities.channels.base import (
    DeliveryDeferred,
    DeliveryRejected,
    OutboundMessage,
    synthetic_message_id,
)

# Twilio error codes where the same request can never succeed. Sending again would waste money
# or, for 21610, contact someone who replied STOP; the engine falls back to the next channel.
_PERMANENT_CODES = frozenset(
    {
        21610,  # recipient unsubscribed (STOP)
        21211,  # invalid 'To' number
        21614,  # 'To' is not a mobile number
        63016,  # outside the WhatsApp 24 h window: only an approved template may be sent
        20003,  # authentication failed
        21606,  # 'From' number cannot send to this destination
        21659,  # 'From' is not a Twilio number on this account
    }
)
_TRANSIENT_CODES = frozenset({20429})  # Twilio's own "too many requests"
WHATSAPP_PREFIX = "whatsapp:"


class _RoutingHttpClient(TwilioHttpClient):
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


class TwilioSender:
    provider = "twilio"
    blocking = True

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        sms_from: str,
        whatsapp_from: str,
        api_base_url: str = "",
        timeout: float = 15.0,
        status_callback: str = "",
    ) -> None:
        """``status_callback``: where Twilio reports each message's delivery (our
        ``/webhooks/twilio/status``); empty, it reports nowhere."""
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self._client = Client(
            account_sid,
            auth_token,
            http_client=_RoutingHttpClient(api_base_url, timeout),
            # Settings are the only source of configuration: an unrelated TWILIO_EDGE or
            # TWILIO_REGION in the environment must not silently re-route production traffic.
            environment={},
        )
        self._sms_from = sms_from
        self._whatsapp_from = whatsapp_from
        self._callback = {"status_callback": status_callback} if status_callback else {}

    def send(self, message: OutboundMessage) -> str:
        to, from_ = self._addresses(message)
        try:
            created = self._client.messages.create(
                to=to, from_=from_, body=message.body, **self._callback
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _classify_api_error(exc) from exc
        except requests.Timeout as exc:
            raise DeliveryDeferred("twilio_timeout", str(exc) or "request timed out") from exc
        except requests.ConnectionError as exc:
            raise DeliveryDeferred("twilio_connection", str(exc) or "connection failed") from exc
        sid = created.sid
        return str(sid) if sid else synthetic_message_id("twilio", message.idempotency_key)

    def _addresses(self, message: OutboundMessage) -> tuple[str, str]:
        if message.channel == "sms":
            sender, prefix = self._sms_from, ""
        elif message.channel == "whatsapp":
            sender, prefix = self._whatsapp_from, WHATSAPP_PREFIX
        else:
            raise ValueError(f"TwilioSender cannot send {message.channel!r} messages")
        if not sender:
            raise DeliveryRejected(
                "twilio_no_sender", f"no Twilio sender configured for {message.channel}"
            )
        return _with_prefix(prefix, message.recipient), _with_prefix(prefix, sender)


def _with_prefix(prefix: str, address: str) -> str:
    return address if address.startswith(prefix) else f"{prefix}{address}"


def _classify_api_error(
    exc: TwilioRestException | TwilioServiceException,
) -> DeliveryRejected | DeliveryDeferred:
    status = int(exc.status)
    # The SDK falls back to the HTTP status when the body carries no Twilio code.
    code = int(exc.code) if exc.code is not None else status
    # The legacy error shape carries ``msg``; RFC 9457 problem details carry detail/title.
    reason = str(exc.msg if isinstance(exc, TwilioRestException) else exc.detail or exc.title)
    label = f"twilio_{code}"
    if code in _PERMANENT_CODES:
        return DeliveryRejected(label, reason)
    if code in _TRANSIENT_CODES or status == 429 or status >= 500:
        return DeliveryDeferred(label, reason)
    if 400 <= status < 500:
        return DeliveryRejected(label, reason)
    # Anything else (a redirect, a 1xx) is the network misbehaving, not a verdict on the message.
    return DeliveryDeferred(label, reason)
