"""Twilio Messaging webhooks: signature check, delivery status callbacks and inbound replies.

A route calls ``verify_twilio`` first, then ``parse_status_callback`` or ``parse_inbound`` on the
same form. Twilio posts ``application/x-www-form-urlencoded`` bodies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from api.webhooks.errors import MalformedEvent, SignatureRejected
from api.webhooks.keywords import is_opt_in, is_opt_out

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_SETTINGS_HEADER",
    "DeliveryStatus",
    "FormFields",
    "InboundReply",
    "MessagingChannel",
    "NormalizedStatus",
    "parse_inbound",
    "parse_status_callback",
    "verify_twilio",
]

MessagingChannel = Literal["sms", "whatsapp"]
# Starlette's FormData is a Mapping[str, str | UploadFile]; Twilio only ever sends text.
FormFields = Mapping[str, object]
NormalizedStatus = Literal["queued", "sent", "delivered", "undelivered", "failed", "read"]

WHATSAPP_PREFIX = "whatsapp:"  # same prefix TwilioSender puts on WhatsApp addresses

# Every outbound status Twilio documents (Message resource, "Status" values), folded into the
# six the outbox understands. "receiving"/"received" belong to inbound messages and are refused.
_STATUSES: Mapping[str, NormalizedStatus] = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "partially_delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",  # a cancelled scheduled message never left Twilio
    "read": "read",
}


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    provider: str
    provider_message_id: str
    """Twilio's MessageSid, the value ``TwilioSender.send`` returned."""
    status: NormalizedStatus
    raw_status: str
    error_code: str | None
    """``"twilio_<ErrorCode>"``, the same label the sender uses for API errors."""
    recipient: str
    """E.164 number (without ``whatsapp:``), as stored on the outbound message."""
    channel: MessagingChannel


@dataclass(frozen=True, slots=True)
class InboundReply:
    provider_message_id: str
    sender: str
    """E.164 number of the person who wrote (without ``whatsapp:``)."""
    channel: MessagingChannel
    body: str
    opt_out: bool
    opt_in: bool


def verify_twilio(
    auth_token: str,
    url: str,
    form: FormFields,
    signature: str | None,
    *,
    signature_settings: str | None = None,
) -> None:
    """Raise ``SignatureRejected`` unless ``signature`` (the X-Twilio-Signature header) signs
    this exact URL and form.

    ``url`` must be the public URL Twilio called, including the query string. Behind a proxy or
    load balancer the request's own URL differs (scheme, host, port), so the caller passes the
    configured public base URL joined with the path and query instead.

    Pass the framework's form object itself (Starlette ``FormData`` or similar), not ``dict(form)``:
    the SDK reads repeated fields through ``getlist`` and a dict would keep only one value.

    ``signature_settings`` is the X-Twilio-Webhooks-Signature-Settings header, present when the
    webhook is signed with a SharedKey (HMAC-SHA256) instead of the Auth Token (HMAC-SHA1).

    Twilio's signature carries no timestamp, so a captured request can be replayed verbatim;
    callers deduplicate by MessageSid (and MessageStatus for status callbacks).
    """
    if not auth_token:
        # An empty key is public knowledge: every forged request would pass.
        raise ValueError("Twilio auth token is not configured")
    if not signature:
        raise SignatureRejected(f"missing {SIGNATURE_HEADER} header")
    if not _only_text(form):
        raise SignatureRejected("the form carries a file upload, which Twilio never sends")
    algorithm = get_signature_algorithm(signature_settings)
    if not RequestValidator(auth_token).validate(url, form, signature, algorithm):
        raise SignatureRejected(f"{SIGNATURE_HEADER} does not match the URL and form")


def parse_status_callback(form: FormFields) -> DeliveryStatus:
    """Read a status callback for a message we sent (the StatusCallback of Messages.create)."""
    message_sid = _required(form, "MessageSid")
    raw_status = _required(form, "MessageStatus")
    status = _STATUSES.get(raw_status.lower())
    if status is None:
        raise MalformedEvent("MessageStatus", f"{raw_status!r} is not an outbound message status")
    channel, recipient = _split_address(form, "To")
    error_code = _text(form, "ErrorCode")
    return DeliveryStatus(
        provider="twilio",
        provider_message_id=message_sid,
        status=status,
        raw_status=raw_status,
        error_code=f"twilio_{error_code}" if error_code else None,
        recipient=recipient,
        channel=channel,
    )


def parse_inbound(form: FormFields) -> InboundReply:
    """Read a message a debtor sent to one of our numbers, flagging opt-out and opt-in keywords.

    With Advanced Opt-Out enabled on a Messaging Service, Twilio matches its own (possibly
    customised) keyword list and says so in ``OptOutType``; that verdict counts as well.
    """
    message_sid = _required(form, "MessageSid")
    channel, sender = _split_address(form, "From")
    body = form.get("Body")
    if not isinstance(body, str):
        body = ""  # a media-only message has no Body
    twilio_verdict = _text(form, "OptOutType").upper()
    opt_out = twilio_verdict == "STOP" or is_opt_out(body)
    opt_in = not opt_out and (twilio_verdict == "START" or is_opt_in(body))
    return InboundReply(
        provider_message_id=message_sid,
        sender=sender,
        channel=channel,
        body=body,
        opt_out=opt_out,
        opt_in=opt_in,
    )


def _required(form: FormFields, field: str) -> str:
    value = _text(form, field)
    if not value:
        raise MalformedEvent(field, "missing")
    return value


def _text(form: FormFields, field: str) -> str:
    value = form.get(field)
    return value.strip() if isinstance(value, str) else ""


def _only_text(form: FormFields) -> bool:
    # The SDK concatenates every value into the signed string; a file would crash it (500)
    # instead of failing the check (403).
    getlist = getattr(form, "getlist", None)
    for name in form:
        values = getlist(name) if callable(getlist) else [form[name]]
        if not all(isinstance(value, str) for value in values):
            return False
    return True


def _split_address(form: FormFields, field: str) -> tuple[MessagingChannel, str]:
    address = _required(form, field)
    if address.startswith(WHATSAPP_PREFIX):
        number = address.removeprefix(WHATSAPP_PREFIX).strip()
        if not number:
            raise MalformedEvent(field, "WhatsApp address without a number")
        return "whatsapp", number
    if ":" in address:
        # messenger:, rcs: ... are channels we never send on.
        raise MalformedEvent(field, f"unsupported channel {address.split(':', 1)[0]!r}")
    return "sms", address
