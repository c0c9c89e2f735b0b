"""Payment notifications from gateways and banks, signed with our own HMAC scheme.

The sender signs ``f"{t}."`` + raw body with a shared secret and sends
``X-Dunning-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``. Several ``v1=`` entries and
several accepted secrets let either side rotate a secret without downtime: the sender signs
with old and new, or we accept old and new, for the overlap.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from api.webhooks.errors import MalformedEvent, SignatureRejected
from api.webhooks.freshness import DEFAULT_TOLERANCE, require_aware, require_fresh

SIGNATURE_HEADER = "X-Dunning-Signature"

_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
_PLAIN_DECIMAL_PATTERN = r"^[0-9]{1,18}(\.[0-9]{1,6})?$"
_PLAIN_DECIMAL = re.compile(_PLAIN_DECIMAL_PATTERN)


def sign_payment_payload(secret: bytes | str, raw_body: bytes, timestamp: int) -> str:
    """The ``X-Dunning-Signature`` header value for ``raw_body`` sent at ``timestamp``."""
    if isinstance(timestamp, bool) or timestamp < 0:
        raise ValueError("timestamp must be Unix seconds")
    return f"t={timestamp},v1={_mac(_as_key(secret), timestamp, raw_body)}"


def verify_payment_signature(
    secrets: str | bytes | Sequence[str | bytes],
    raw_body: bytes,
    header: str | None,
    *,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Raise ``SignatureRejected`` unless one ``v1`` in ``header`` is the HMAC of ``raw_body``
    under one of ``secrets``, and its timestamp is within ``tolerance`` of ``now``."""
    keys = _keys(secrets)
    require_aware(now)
    if not header:
        raise SignatureRejected(f"missing {SIGNATURE_HEADER} header")
    timestamp, candidates = _parse_header(header)
    expected = [_mac(key, timestamp, raw_body).encode("ascii") for key in keys]
    # compare_digest on every pair: how long the check takes says nothing about which byte
    # of which signature was wrong.
    matched = False
    for candidate in candidates:
        for digest in expected:
            matched |= hmac.compare_digest(digest, candidate)
    if not matched:
        raise SignatureRejected(f"{SIGNATURE_HEADER} does not match the body and timestamp")
    require_fresh(timestamp, now=now, tolerance=tolerance)


def _parse_header(header: str) -> tuple[int, list[bytes]]:
    timestamps: list[str] = []
    candidates: list[bytes] = []
    for part in header.split(","):
        name, _, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if name == "t":
            timestamps.append(value)
        elif name == "v1" and value:
            candidates.append(value.lower().encode("utf-8", "replace"))
        # Other schemes (a future v2) are ignored, so senders can add them before we do.
    if len(timestamps) != 1 or not _UNIX_SECONDS.fullmatch(timestamps[0]):
        raise SignatureRejected(f"{SIGNATURE_HEADER} needs exactly one t=<unix seconds>")
    if not candidates:
        raise SignatureRejected(f"{SIGNATURE_HEADER} has no v1 signature")
    return int(timestamps[0]), candidates


def _mac(key: bytes, timestamp: int, raw_body: bytes) -> str:
    return hmac.new(key, f"{timestamp}.".encode("ascii") + raw_body, hashlib.sha256).hexdigest()


def _keys(secrets: str | bytes | Sequence[str | bytes]) -> list[bytes]:
    listed = [secrets] if isinstance(secrets, str | bytes) else list(secrets)
    keys = [_as_key(secret) for secret in listed]
    if not keys:
        raise ValueError("no payment webhook secret is configured")
    return keys


def _as_key(secret: bytes | str) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not key:
        # Anyone can compute an HMAC with an empty key.
        raise ValueError("a payment webhook secret is empty")
    return key


# --- the body --------------------------------------------------------------------------------

Amount = Annotated[
    Decimal,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _PLAIN_DECIMAL_PATTERN,
            "description": "Amount paid, as a decimal string: money is never a JSON number.",
            "examples": ["12345.50"],
        }
    ),
]


class GatewayPaymentBody(BaseModel):
    """What a gateway or bank posts to ``POST /webhooks/payments``."""

    model_config = ConfigDict(
        extra="ignore",  # gateways add fields; ignoring them keeps old integrations working
        str_strip_whitespace=True,
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "evt_01HZX3K9Q2",
                    "invoice_number": "F-000123",
                    "customer_tax_id": "76.123.456-7",
                    "amount": "12345.50",
                    "currency": "CLP",
                    "paid_at": "2025-03-14T10:15:00-03:00",
                    "reference": "transferencia 998877",
                }
            ]
        },
    )

    id: str = Field(
        min_length=1, max_length=200, description="The sender's event id; repeats dedupe."
    )
    invoice_number: str | None = Field(default=None, max_length=100, description="Folio.")
    customer_tax_id: str | None = Field(
        default=None,
        max_length=50,
        validate_default=True,  # so the "one of the two" rule runs when both are absent
        description="RUT, RFC, NIT or RUC of the payer; used when no invoice is named.",
    )
    amount: Amount = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. CLP or MXN.")
    paid_at: AwareDatetime = Field(description="ISO 8601 with a UTC offset.")
    reference: str | None = Field(default=None, max_length=200)

    @field_validator("invoice_number", "customer_tax_id", "reference", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("customer_tax_id")
    @classmethod
    def _names_whom(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("invoice_number") is None:
            raise ValueError("invoice_number or customer_tax_id is required")
        return value

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_is_text(cls, value: Any) -> Any:
        if isinstance(value, int | float):  # bool is an int too
            raise ValueError('must be a string such as "12345.50": a number would be a float')
        if not isinstance(value, str) or not _PLAIN_DECIMAL.fullmatch(value.strip()):
            raise ValueError('must be a plain decimal string such as "12345.50"')
        return value.strip()

    @field_validator("currency", mode="before")
    @classmethod
    def _currency_upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("paid_at", mode="before")
    @classmethod
    def _paid_at_is_text(cls, value: Any) -> Any:
        # pydantic would otherwise read a number as Unix time, hiding a sender's schema bug.
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 string with a UTC offset")
        return value

    @field_validator("paid_at")
    @classmethod
    def _paid_at_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class GatewayPayment:
    event_id: str
    invoice_number: str | None
    customer_tax_id: str | None
    amount: Decimal
    currency: str
    paid_at: datetime
    """Timezone-aware, UTC."""
    reference: str | None


def parse_payment_event(raw_body: bytes) -> GatewayPayment:
    """Validate the body against ``GatewayPaymentBody``; any problem is a ``MalformedEvent``
    naming the first offending field ("body" when the JSON itself is unreadable)."""
    try:
        body = GatewayPaymentBody.model_validate_json(raw_body)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise MalformedEvent(field, first["msg"].removeprefix("Value error, ")) from None
    return GatewayPayment(
        event_id=body.id,
        invoice_number=body.invoice_number,
        customer_tax_id=body.customer_tax_id,
        amount=body.amount,
        currency=body.currency,
        paid_at=body.paid_at,
        reference=body.reference,
    )
