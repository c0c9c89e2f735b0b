"""What the workflow asks of the outside world: the activity names and their typed messages.

Workflows import only this module (never the implementations, which touch the database and
the providers), so the sandbox stays light and the layer rule holds.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict
from temporalio import activity

from dunning_policies.contact import ContactRequest
from dunning_policies.jurisdictions import ContactRules
from dunning_policies.language import Channel, Tone
from dunning_policies.state import TimelineEvent

CUSTOMER_CONTACT_WORKFLOW = "CustomerContactWorkflow"
CONTACT_REQUESTED_SIGNAL = "contact_requested"


def contact_workflow_id(customer_id: str) -> str:
    """``contact-<customer id>``, sanitised like the invoice workflow ids."""
    return "contact-" + re.sub(r"[^A-Za-z0-9._-]", "_", customer_id.strip())


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SendRequest(_Message):
    idempotency_key: str
    workflow_id: str
    invoice_number: str
    customer_id: str
    step_id: str
    channel: Channel
    template: str
    tone: Tone
    amount_due: Decimal
    original_amount: Decimal
    currency: str
    due_on: date
    scheduled_at: datetime
    invoices: tuple[ConsolidatedLine, ...] = ()
    """Set for a consolidated message: every invoice it lists (this one included)."""


class ConsolidatedLine(_Message):
    """Another invoice a consolidated message speaks of."""

    invoice_number: str
    amount_due: Decimal
    due_on: date


class SendResult(_Message):
    status: Literal["sent", "rejected"]
    provider: str
    provider_message_id: str | None = None
    code: str | None = None
    reason: str | None = None
    address_invalid: bool = False
    """The address itself is bad (invalid number, opted out): skip this channel from now on."""


class ProgressReport(_Message):
    """New timeline events and the invoice's current projection, written in one unit of work."""

    workflow_id: str
    invoice_number: str
    customer_id: str
    currency: str
    stage: str
    amount_due: Decimal
    next_action: str | None
    next_action_at: datetime | None
    closed_reason: str | None
    events: tuple[TimelineEvent, ...]


class CustomerContactStart(_Message):
    """What the customer's contact workflow needs to start, sent with every request."""

    customer_id: str
    timezone: str
    rules: ContactRules | None
    respect_rules: bool = True


class ContactRequestDelivery(_Message):
    """A request for the customer's contact workflow, delivered by signal-with-start."""

    start: CustomerContactStart
    request: ContactRequest


class SendAbandoned(_Message):
    """A send that ran out of retries: its outbox row says so, not 'pending' for ever."""

    idempotency_key: str
    channel: Channel
    reason: str
    invoice_number: str = ""
    customer_id: str = ""
    workflow_id: str = ""
    """The lead invoice's, for the log line."""


class LateContactRecord(_Message):
    """A message went out, but its invoice had closed before it could hear so: the bitácora
    still records the contact, under the invoice."""

    invoice_workflow_id: str
    invoice_number: str
    customer_id: str
    step_id: str
    channel: Channel
    template: str
    idempotency_key: str
    provider: str
    provider_message_id: str | None
    sent_at: datetime
    consolidated_with: tuple[str, ...] = ()


class DunningActivities(Protocol):
    @activity.defn(name="send_message")
    def send_message(self, request: SendRequest) -> SendResult: ...

    @activity.defn(name="record_progress")
    def record_progress(self, report: ProgressReport) -> None: ...

    @activity.defn(name="request_contact")
    def request_contact(self, delivery: ContactRequestDelivery) -> None: ...

    @activity.defn(name="abandon_send")
    def abandon_send(self, abandoned: SendAbandoned) -> None: ...

    @activity.defn(name="record_late_contact")
    def record_late_contact(self, record: LateContactRecord) -> None: ...
