"""What the engine knows about one invoice: amounts, dates, the customer's reachability,
what has been done so far and what the debtor or a collector has said.

Everything here is a value: the transitions in ``transitions.py`` return a new state.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dunning_policies.jurisdictions import ContactRules
from dunning_policies.language import Channel


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Stage(StrEnum):
    CURRENT = "current"
    DUE = "due"
    OVERDUE = "overdue"
    NEGOTIATION = "negotiation"
    PROMISE = "promise"
    DISPUTED = "disputed"
    PAUSED = "paused"
    HANDOFF = "handoff"
    PAID = "paid"
    CANCELLED = "cancelled"
    WRITTEN_OFF = "written_off"
    CREDITED = "credited"


CLOSED_STAGES = frozenset({Stage.PAID, Stage.CANCELLED, Stage.WRITTEN_OFF, Stage.CREDITED})
"""Stages an invoice never leaves; as ``str`` members they compare equal to the stored names."""
ClosedReason = Literal["paid", "cancelled", "written_off", "credited"]


class TaskOutcome(StrEnum):
    PROMISE_TO_PAY = "promise_to_pay"
    PAID = "paid"  # the debtor says it is already paid: we wait for the money to show up
    DISPUTE = "dispute"
    NO_CONTACT = "no_contact"
    REFUSED = "refused"


class StepStatus(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"
    UNDELIVERABLE = "undeliverable"
    TASK_OPENED = "task_opened"
    HANDED_OFF = "handed_off"


class Payment(_Value):
    id: str
    amount: Decimal = Field(gt=0)
    paid_at: datetime
    reference: str | None = None


class CreditNote(_Value):
    """A credit note the ERP issued against the invoice: it lowers what the customer owes."""

    id: str
    amount: Decimal = Field(gt=0)
    issued_at: datetime
    reason: str | None = None


class OpenTask(_Value):
    id: str
    step_id: str
    attempt: int
    queue: str
    created_at: datetime
    sla_due_at: datetime


class Promise(_Value):
    kind: Literal["promise", "payment_claim"]
    promised_date: date
    amount: Decimal
    made_at: datetime
    paid_before: Decimal = Field(description="Total paid when the promise was made.")
    task_id: str | None = None


class Negotiation(_Value):
    attempts: int = 0
    task: OpenTask | None = None
    retry_at: datetime | None = None
    exhausted_reason: str | None = None
    """Set when negotiation is over without payment (refused, SLA lapsed, attempts used)."""


class TimelineEvent(_Value):
    seq: int
    at: datetime
    kind: str
    step_id: str | None = None
    channel: Channel | None = None
    template: str | None = None
    tone: str | None = None
    status: str | None = None
    amount_due: Decimal
    detail: dict[str, str] = Field(default_factory=dict)


class ContactInFlight(_Value):
    """A message the customer's contact workflow holds for this invoice: queued for the
    contact window, the weekly caps or other invoices' news to go out with."""

    step_id: str
    requested_at: datetime


class Customer(_Value):
    id: str
    country: str
    timezone: str
    locale: str
    channels: frozenset[Channel] = Field(description="Channels with a contact point on file.")


class InvoiceState(_Value):
    invoice_number: str
    currency: str
    original_amount: Decimal = Field(gt=0)
    issued_on: date
    due_on: date
    customer: Customer

    respect_contact_window: bool = Field(
        default=True, description="Only the demo turns this off, to show messages at any hour."
    )
    contact_rules: ContactRules | None = Field(
        default=None,
        description="The law's rules for this customer, holidays included, fixed at issuance. "
        "None: a workflow started before rule packs, which keeps the policy's window alone.",
    )
    payments: tuple[Payment, ...] = ()
    credit_notes: tuple[CreditNote, ...] = ()
    closed_reason: ClosedReason | None = None
    paused: bool = False
    dispute_reason: str | None = None
    promise: Promise | None = None
    broken_promises: int = 0
    pending_notice: str | None = Field(
        default=None, description="Id of a broken-promise notice still to send."
    )
    negotiation: Negotiation = Negotiation()
    handed_off: bool = False
    contact_in_flight: ContactInFlight | None = None

    steps: dict[str, StepStatus] = Field(default_factory=dict)
    failed_channels: dict[str, tuple[Channel, ...]] = Field(default_factory=dict)
    unusable_channels: dict[Channel, str] = Field(
        default_factory=dict, description="Channels whose address is invalid or opted out."
    )
    timeline: tuple[TimelineEvent, ...] = ()

    @property
    def amount_paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal(0))

    @property
    def amount_credited(self) -> Decimal:
        return sum((c.amount for c in self.credit_notes), Decimal(0))

    @property
    def amount_due(self) -> Decimal:
        return self.original_amount - self.amount_credited - self.amount_paid

    @property
    def next_seq(self) -> int:
        return self.timeline[-1].seq + 1 if self.timeline else 1
