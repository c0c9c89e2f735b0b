"""The contract between the send activity and the outbound providers.

A sender turns one ``OutboundMessage`` into one provider call and classifies every failure as
permanent (``DeliveryRejected``: the engine falls back to the next channel) or transient
(``DeliveryDeferred``: Temporal retries the activity with backoff). Nothing else may escape for a
provider-side problem, so the activity never has to know a provider's error vocabulary.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

Channel = Literal["email", "sms", "whatsapp", "voice"]
WHATSAPP_WINDOW = timedelta(hours=24)
"""How long after the customer's last WhatsApp message a business may write free-form text."""
# The provider is called a moment after the window is judged (and a retry later still): the
# last minutes count as closed, so a message is never refused for crossing the line in transit.
_WINDOW_MARGIN = timedelta(minutes=10)

# A fixed namespace keeps synthetic ids stable across processes and releases: the same
# idempotency key always maps to the same id, so a retried send records the same value.
_SYNTHETIC_ID_NAMESPACE = uuid.UUID("6f1d8a52-3f0c-5b7e-9a4d-2c8e1b7f0a61")


@dataclass(frozen=True)
class OutboundMessage:
    idempotency_key: str
    channel: Channel
    recipient: str
    """Email address or E.164 phone number (without any ``whatsapp:`` prefix)."""
    subject: str | None
    """Email only."""
    body: str
    """What the debtor reads (or, for a call, hears); WhatsApp sends it only as free-form text."""
    template: str
    locale: str
    free_form_allowed: bool = True
    """WhatsApp only: the debtor wrote to us on WhatsApp in the last 24 hours, so free-form text
    may be sent; otherwise only a pre-approved content template may open the conversation."""
    template_variables: tuple[tuple[str, str], ...] = ()
    """WhatsApp only: the approved template's placeholders in order, ``(("1", value), ...)``;
    see ``dunning_policies.messages.whatsapp_template_variables``."""


class _DeliveryError(Exception):
    def __init__(self, code: str, reason: str) -> None:
        # Both values go to Exception.args so the error pickles and crosses process boundaries.
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


class DeliveryRejected(_DeliveryError):
    """Permanent: retrying cannot succeed (bad address, opted out, bad credentials)."""


class DeliveryDeferred(_DeliveryError):
    """Transient: the provider is busy, down or slow; the same send may succeed later."""


class ChannelSender(Protocol):
    provider: str
    """``"console"``, ``"sendgrid"`` or ``"twilio"`` (messages and calls alike)."""
    blocking: bool
    """True when ``send`` waits on the network (a provider SDK): the send activity then calls
    it on the provider-call threads, never on the worker's event loop."""

    def send(self, message: OutboundMessage) -> str:
        """Deliver the message and return the provider's message id."""
        ...


def whatsapp_free_form_allowed(last_inbound_at: datetime | None, now: datetime) -> bool:
    """``OutboundMessage.free_form_allowed`` from when the customer last wrote on WhatsApp
    (``InteractionRepository.last_inbound_at(customer_id, "whatsapp")``)."""
    return last_inbound_at is not None and now - last_inbound_at < WHATSAPP_WINDOW - _WINDOW_MARGIN


def synthetic_message_id(prefix: str, idempotency_key: str) -> str:
    """A deterministic id for when the provider gives none (the console, a missing header)."""
    return f"{prefix}-{uuid.uuid5(_SYNTHETIC_ID_NAMESPACE, idempotency_key)}"
