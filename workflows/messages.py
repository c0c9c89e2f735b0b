"""The invoice workflow's inputs, signals, updates and query answers."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from dunning_policies.language import Channel, Policy
from dunning_policies.state import (
    CallResult,
    DisputeCase,
    DisputeCode,
    Instalment,
    InvoiceState,
    OpenTask,
    PaymentPlan,
    Promise,
    TimelineEvent,
)

TASK_QUEUE = "dunning"


def workflow_id_for(invoice_number: str) -> str:
    """``invoice-<number>``, with anything but letters, digits, ``-``, ``_`` and ``.`` replaced."""
    return "invoice-" + re.sub(r"[^A-Za-z0-9._-]", "_", invoice_number.strip())


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InvoiceDunningInput(_Message):
    policy: Policy
    """A snapshot: editing the policy file never changes a workflow already running."""
    segment: str
    state: InvoiceState
    continued: bool = False


class PaymentNotice(_Message):
    id: str
    amount: Decimal = Field(gt=0)
    paid_at: datetime
    reference: str | None = None


class CreditNoteNotice(_Message):
    id: str
    amount: Decimal = Field(gt=0)
    issued_at: datetime
    reason: str | None = None


class InvoiceAmendment(_Message):
    due_on: date | None = None
    amount: Decimal | None = Field(default=None, gt=0)
    reason: str | None = None


class ChannelPreference(_Message):
    """The debtor opted out of (or back into) a channel, e.g. by replying STOP."""

    channel: Channel
    opted_out: bool
    source: str


class AddressInvalid(_Message):
    channel: Channel
    reason: str


class DisputeOpening(_Message):
    """The debtor disputes the invoice (from a collector, the portal or the ERP)."""

    reason: str
    code: DisputeCode = DisputeCode.OTHER
    owner: str | None = None
    """Who works the case; the policy's dispute desk when not given."""
    source: str | None = None
    """Where it came from (``portal``, ``collector``…), for the bitácora."""


class DisputeResolution(_Message):
    upheld: bool
    note: str = ""
    credit_amount: Decimal | None = Field(default=None, gt=0)
    """Upheld in part: the credit note's amount (all that is due when not given)."""


class PromiseRequest(_Message):
    """A promise to pay outside a collector's task: the debtor's reply, the portal."""

    promised_date: date
    amount: Decimal | None = Field(default=None, gt=0)
    source: str = "portal"
    note: str | None = None


class PaymentPlanRequest(_Message):
    instalments: tuple[Instalment, ...] = Field(min_length=1)
    source: str = "portal"


class CallOutcome(_Message):
    """A collector's call, for the bitácora; when it happened is the workflow's own clock."""

    outcome: CallResult
    collector: str = Field(min_length=1)
    """The collector's user id (or name)."""
    note: str | None = None


class Escalation(_Message):
    """Hand the invoice to the policy's collection agency now, skipping the steps left."""

    reason: str = Field(min_length=1)
    collector: str = Field(min_length=1)


class TaskSnooze(_Message):
    """Hide the open task from the inbox until ``until``; its SLA still runs."""

    task_id: str
    until: AwareDatetime
    collector: str = Field(min_length=1)
    note: str | None = None


class PaymentClaim(_Message):
    """The debtor says the invoice is paid already ("ya pagué"): the invoice waits for the
    money the policy's ``payment_claim_days``."""

    reference: str = Field(min_length=1)
    """The bank transfer's or the receipt's number, as the debtor gives it."""
    paid_on: date
    amount: Decimal | None = Field(default=None, gt=0)
    """All that is due when not given."""
    source: str = "portal"
    note: str | None = None


class Reason(_Message):
    reason: str


class PolicyMigration(_Message):
    """Move a running invoice to a newer version of its policy (``dunning policies migrate``)."""

    policy: Policy
    requested_by: str


class SegmentChange(_Message):
    """The customer's risk segment moved (``RiskReviewWorkflow``): follow the segment's policy
    from the next step. The policy is resolved by the sender, as for ``PolicyMigration``."""

    segment: str
    policy: Policy
    reason: str


class NextAction(_Message):
    action: str
    at: datetime | None
    detail: str | None = None


class InvoiceStatus(_Message):
    invoice_number: str
    customer_id: str
    segment: str
    policy: str
    policy_version: int
    stage: str
    currency: str
    original_amount: Decimal
    amount_due: Decimal
    next_action: NextAction
    open_task: OpenTask | None
    promise: Promise | None
    plan: PaymentPlan | None = None
    dispute: DisputeCase | None = None
    timeline: tuple[TimelineEvent, ...]


class InvoiceOutcome(_Message):
    invoice_number: str
    stage: str
    amount_due: Decimal
    credit: Decimal = Decimal(0)
    """What the customer paid beyond the invoice, booked as a customer credit."""


class ContactOutcome(_Message):
    """What the customer's contact workflow did with an invoice's request."""

    step_id: str
    status: Literal["sent", "failed", "undeliverable", "replaced"]
    """``failed``: this channel was refused and another is tried; the others are final.
    ``replaced``: a later step of the invoice took the request's place before it went out."""
    channel: Channel | None = None
    idempotency_key: str | None = None
    provider: str | None = None
    provider_message_id: str | None = None
    code: str | None = None
    reason: str | None = None
    address_invalid: bool = False
    consolidated_with: tuple[str, ...] = ()
    """The other invoices the same message spoke of."""
    moved_by: tuple[str, ...] = ()
    """The rules that held the message back, in order."""


class ContactWithdrawal(_Message):
    workflow_id: str
    reason: str
    answer: bool = False
    """The invoice waits to hear whether the withdrawn message had already gone out."""
