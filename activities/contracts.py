"""What the workflow asks of the outside world: the activity names and their typed messages.

Workflows import only this module (never the implementations, which touch the database and
the providers), so the sandbox stays light and the layer rule holds.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict
from temporalio import activity

from dunning_policies.language import Channel, Tone
from dunning_policies.state import TimelineEvent


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


class DunningActivities(Protocol):
    @activity.defn(name="send_message")
    def send_message(self, request: SendRequest) -> SendResult: ...

    @activity.defn(name="record_progress")
    def record_progress(self, report: ProgressReport) -> None: ...
