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
    PAYMENT_PLAN = "payment_plan"
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
    PAYMENT_PLAN = "payment_plan"


class CallResult(StrEnum):
    """How a collector's call went (the bitácora's call line)."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    LEFT_MESSAGE = "left_message"
    REFUSED = "refused"
    """The debtor answered and refused to pay: a conversation too."""


CONVERSATION_CALLS = frozenset({CallResult.REACHED, CallResult.REFUSED})
"""Calls in which the collector spoke with the debtor: Regulation F (12 CFR 1006.14(b)(2))
pauses further calls about the debt for 7 days after one."""


class DisputeCode(StrEnum):
    NOT_RECEIVED = "not_received"
    WRONG_AMOUNT = "wrong_amount"
    QUALITY = "quality"
    ALREADY_PAID = "already_paid"
    OTHER = "other"


class DisputeCase(BaseModel):
    """An open dispute: only this invoice pauses, and someone owns it until a deadline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    code: DisputeCode
    reason: str
    owner: str
    opened_at: datetime
    deadline: date
    overdue: bool = False


class Instalment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int = Field(ge=1)
    due_on: date
    amount: Decimal = Field(gt=0)


class PaymentPlan(BaseModel):
    """The balance split into instalments; each has its own reminder and due-day notice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan_id: str
    instalments: tuple[Instalment, ...] = Field(min_length=1)
    agreed_at: datetime
    paid_before: Decimal = Field(description="Total paid when the plan was agreed.")
    source: str
    instalments_recorded: int = 0
    """Instalments already marked paid in the timeline."""

    def covered(self, amount_paid: Decimal) -> int:
        """How many instalments the payments since the agreement cover, oldest first."""
        paid_since, total, count = amount_paid - self.paid_before, Decimal(0), 0
        for instalment in self.instalments:
            total += instalment.amount
            if paid_since < total:
                break
            count += 1
        return count


class StepStatus(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"
    UNDELIVERABLE = "undeliverable"
    TASK_OPENED = "task_opened"
    HANDED_OFF = "handed_off"
    REPLACED = "replaced"
    """A later step replaced the step's queued message; the customer's contact workflow tells
    whether it was dropped unsent (then ``SKIPPED``) or had already gone out (``SENT``)."""


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
    source: str = "collector"
    """Who made it: a collector's task, the debtor's reply, the portal."""


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
    amount_due: Decimal | None = None
    """What the invoice owed when it asked: a payment since makes the queued text stale."""
    conversation_at: datetime | None = None
    """The last conversation it reported: a newer one must reach the contact rules."""


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
    """Promises and payment plans broken: the customer's risk counts them."""
    promises_kept: int = 0
    dispute_cases: bool = False
    """Disputes open a case (owner, deadline) and their days do not count. Set at issuance;
    a workflow started before cases existed keeps the old behaviour, so it replays as it ran."""
    replacements_confirmed: bool = False
    """A queued message replaced by a later step is recorded skipped only once the customer's
    contact workflow confirms it never left (it may have been on its way out). Set at issuance;
    a workflow started before this keeps recording it skipped at once, so it replays as it ran."""
    dispute: DisputeCase | None = None
    disputes_opened: int = 0
    schedule_shift_days: int = 0
    """Days the schedule moved on because dunning was paused by a dispute."""
    plan: PaymentPlan | None = None
    plans_agreed: int = 0
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
