"""SendGrid Event Webhook: ECDSA signature check and the batch of email events it posts.

A route reads the raw body once, calls ``verify_sendgrid`` with it and the two headers, then
``parse_events`` on the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, get_args

from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

from activities.channels.sendgrid_email import IDEMPOTENCY_ARG
from api.webhooks.errors import MalformedEvent, SignatureRejected
from api.webhooks.freshness import DEFAULT_TOLERANCE, require_aware, require_fresh

SIGNATURE_HEADER: str = EventWebhookHeader.SIGNATURE
TIMESTAMP_HEADER: str = EventWebhookHeader.TIMESTAMP

EmailEventKind = Literal[
    "delivered",
    "open",
    "click",
    "bounce",
    "dropped",
    "deferred",
    "spamreport",
    "unsubscribe",
    "group_unsubscribe",
    "processed",
    "other",
]
_KINDS: dict[str, EmailEventKind] = {kind: kind for kind in get_args(EmailEventKind)}

# Reasons SendGrid gives when it drops a message to an address on a suppression list
# (SendGrid glossary, "Drops"). Compared casefolded.
_DROPPED_INVALID = frozenset({"bounced address", "invalid"})
_DROPPED_OPTED_OUT = frozenset({"unsubscribed address", "spam reporting address"})
_OPT_OUT_KINDS = frozenset({"spamreport", "unsubscribe", "group_unsubscribe"})

# Unix seconds, ASCII digits only: int() would also accept "+1", " 1", "1_0" and Unicode digits,
# none of which SendGrid sends, and the verifier signs the header text exactly as received.
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True, slots=True)
class EmailEvent:
    event_id: str
    """``sg_event_id``; when SendGrid omits it, a digest of the event so retries still dedupe."""
    provider_message_id: str | None
    """The X-Message-Id returned at send time (``sg_message_id`` up to the first ".")."""
    idempotency_key: str | None
    """Our outbox key, echoed back from the custom arg ``IDEMPOTENCY_ARG``."""
    email: str
    kind: EmailEventKind
    raw_event: str
    hard_bounce: bool
    address_invalid: bool
    """Never send to this address again: a hard bounce, or dropped as bounced/invalid."""
    opt_out: bool
    """The recipient does not want our email: spam report, unsubscribe, or dropped for that."""
    reason: str | None
    occurred_at: datetime


def verify_sendgrid(
    public_key: str,
    raw_body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Raise ``SignatureRejected`` unless SendGrid signed ``timestamp + raw_body`` recently.

    ``public_key`` is the verification key shown in SendGrid's Mail Settings (base64 DER; a PEM
    block is accepted too). ``raw_body`` must be the bytes exactly as received: parsing and
    re-serialising the JSON changes spacing and key order and breaks the signature. ``signature``
    and ``timestamp`` are the ``SIGNATURE_HEADER`` and ``TIMESTAMP_HEADER`` values. A valid
    signature older or newer than ``tolerance`` is a replay. Within the window the same batch can
    still arrive twice (SendGrid retries too), so events are deduplicated by ``event_id``.
    """
    verifier = _verifier(public_key)
    require_aware(now)
    if not signature:
        raise SignatureRejected(f"missing {SIGNATURE_HEADER} header")
    if not timestamp:
        raise SignatureRejected(f"missing {TIMESTAMP_HEADER} header")
    if not _UNIX_SECONDS.fullmatch(timestamp):
        raise SignatureRejected(f"{TIMESTAMP_HEADER} is not a Unix timestamp in seconds")
    try:
        payload = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureRejected("body is not UTF-8, so SendGrid cannot have signed it") from None
    try:
        valid = verifier.verify_signature(payload, signature, timestamp)
    except ValueError:  # not base64 (binascii.Error) or not ASCII
        valid = False
    if not valid:
        raise SignatureRejected(f"{SIGNATURE_HEADER} does not match the body and timestamp")
    require_fresh(int(timestamp), now=now, tolerance=tolerance)


def parse_events(raw_body: bytes) -> list[EmailEvent]:
    """Read the JSON array SendGrid posts. One malformed event refuses the whole batch (the
    route answers 400); unknown event types are kept as ``kind="other"``."""
    try:
        batch = json.loads(raw_body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise MalformedEvent("body", f"not JSON ({type(exc).__name__})") from None
    if not isinstance(batch, list):
        raise MalformedEvent("body", f"expected a JSON array of events, got {type(batch).__name__}")
    return [_parse_event(index, item) for index, item in enumerate(batch)]


def _parse_event(index: int, item: object) -> EmailEvent:
    where = f"events[{index}]"
    if not isinstance(item, dict):
        raise MalformedEvent(where, "not a JSON object")
    raw_event = _required_text(item, "event", where)
    email = _required_text(item, "email", where)
    occurred_at = _occurred_at(item, where)
    kind = _KINDS.get(raw_event, "other")
    reason = _reason(item, kind)
    # "type" is "bounce" for a permanent rejection and "blocked" for a temporary one.
    hard_bounce = kind == "bounce" and _text(item, "type") == "bounce"
    dropped_for = (reason or "").casefold() if kind == "dropped" else ""
    return EmailEvent(
        event_id=_text(item, "sg_event_id") or _digest(item),
        provider_message_id=_message_id(item),
        idempotency_key=_text(item, IDEMPOTENCY_ARG),
        email=email,
        kind=kind,
        raw_event=raw_event,
        hard_bounce=hard_bounce,
        address_invalid=hard_bounce or dropped_for in _DROPPED_INVALID,
        opt_out=kind in _OPT_OUT_KINDS or dropped_for in _DROPPED_OPTED_OUT,
        reason=reason,
        occurred_at=occurred_at,
    )


def _reason(item: dict[str, Any], kind: EmailEventKind) -> str | None:
    if kind == "dropped":
        # Older payloads put the drop cause in "type" instead of "reason".
        return _text(item, "reason") or _text(item, "type")
    if kind == "bounce":
        return _text(item, "reason")
    if kind == "deferred":
        return _text(item, "response") or _text(item, "reason")
    return None


def _message_id(item: dict[str, Any]) -> str | None:
    # sg_message_id is the X-Message-Id plus routing suffixes: "<x-message-id>.filter0001...".
    full = _text(item, "sg_message_id")
    if full is None:
        return None
    return full.split(".", 1)[0] or None


def _occurred_at(item: dict[str, Any], where: str) -> datetime:
    value = item.get("timestamp")
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedEvent(f"{where}.timestamp", "expected Unix seconds as an integer")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedEvent(f"{where}.timestamp", "out of range") from None


def _required_text(item: dict[str, Any], field: str, where: str) -> str:
    value = _text(item, field)
    if value is None:
        raise MalformedEvent(f"{where}.{field}", "missing or not a string")
    return value


def _text(item: dict[str, Any], field: str) -> str | None:
    value = item.get(field)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _digest(item: dict[str, Any]) -> str:
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()


@lru_cache(maxsize=8)
def _verifier(public_key: str) -> EventWebhook:
    """Parsed once per key; a bad key is a configuration error (ValueError), not a forgery."""
    key_body = "".join(
        line.strip()
        for line in public_key.strip().splitlines()
        if line.strip() and not line.startswith("-----")
    )
    if not key_body:
        raise ValueError("SendGrid webhook verification key is not configured")
    verifier = EventWebhook(key_body)
    if not isinstance(verifier.public_key, ec.EllipticCurvePublicKey):
        raise ValueError("SendGrid webhook verification key is not an elliptic-curve public key")
    return verifier
