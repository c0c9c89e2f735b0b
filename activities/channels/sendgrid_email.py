"""Email through SendGrid's v3 Mail Send API, with every failure classified for the engine."""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg, From, Mail, To

from activities.channels.base import (
    DeliveryDeferred,
    DeliveryRejected,
    OutboundMessage,
    synthetic_message_id,
)

# Statuses where resending the same request cannot succeed: a malformed message, a bad or
# unprivileged key, or a payload that is too large. The engine falls back to the next channel.
_PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 413, 415})
IDEMPOTENCY_ARG = "idempotency_key"


class _DropSensitiveDebug(logging.Filter):
    """python_http_client logs the request headers (the API key) and the payload (addresses and
    message text) at DEBUG; neither may reach our logs, whatever level an operator picks."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("HEADERS:", "PAYLOAD:"))


def _install_log_filter() -> None:
    sdk_logger = logging.getLogger("python_http_client.client")
    if not any(isinstance(f, _DropSensitiveDebug) for f in sdk_logger.filters):
        sdk_logger.addFilter(_DropSensitiveDebug())


_install_log_filter()


class SendGridEmailSender:
    provider = "sendgrid"
    blocking = True

    def __init__(
        self,
        api_key: str,
        from_email: str,
        host: str = "https://api.sendgrid.com",
        timeout: float = 15.0,
        from_name: str | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self._client = SendGridAPIClient(api_key, host=host)
        # The SDK's urllib client waits forever by default; a hung provider would pin an
        # activity thread until Temporal's start-to-close timeout. Sub-clients built per call
        # inherit this attribute.
        self._client.client.timeout = timeout
        self._from = From(from_email, from_name)

    def send(self, message: OutboundMessage) -> str:
        if message.channel != "email":
            raise ValueError(f"SendGridEmailSender cannot send {message.channel!r} messages")
        if not message.subject:
            # SendGrid answers 400 for this anyway; failing here saves a round trip.
            raise DeliveryRejected("sendgrid_missing_subject", "an email needs a subject")
        mail = Mail(
            from_email=self._from,
            to_emails=To(message.recipient),
            subject=message.subject,
            plain_text_content=message.body,
        )
        # Custom args come back on every event webhook: that is how events find the outbox row.
        mail.custom_arg = CustomArg(IDEMPOTENCY_ARG, message.idempotency_key)
        try:
            response = self._client.send(mail)
        except HTTPError as exc:
            raise _classify_http_error(exc) from exc
        except (OSError, http.client.HTTPException) as exc:
            # urllib raises URLError (an OSError) for connect failures and a bare TimeoutError
            # for a read timeout; a dropped connection surfaces as an HTTPException.
            raise DeliveryDeferred(_transport_code(exc), str(exc) or type(exc).__name__) from exc
        message_id = response.headers.get("X-Message-Id")
        return (
            str(message_id)
            if message_id
            else synthetic_message_id("sendgrid", message.idempotency_key)
        )


def _classify_http_error(exc: HTTPError) -> DeliveryRejected | DeliveryDeferred:
    status = int(exc.status_code)
    code = f"sendgrid_{status}"
    reason = _error_message(exc.body) or str(exc.reason or f"HTTP {status}")
    if status in _PERMANENT_STATUSES:
        return DeliveryRejected(code, reason)
    if status == 429 or status == 408 or status >= 500:
        return DeliveryDeferred(code, reason)
    # Any other client error means our request is wrong; sending it again will not fix it.
    return DeliveryRejected(code, reason)


def _error_message(body: bytes | str | None) -> str:
    """SendGrid's error body is ``{"errors": [{"message": ..., "field": ..., "help": ...}]}``."""
    if not body:
        return ""
    try:
        payload = json.loads(body)
        return str(payload["errors"][0]["message"])
    except (ValueError, KeyError, IndexError, TypeError):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return text[:200]


def _transport_code(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError) or (
        isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, TimeoutError)
    ):
        return "sendgrid_timeout"
    return "sendgrid_connection"
