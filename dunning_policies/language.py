"""The policy language: the typed steps a collections manager writes a policy with.

A policy is an ordered list of steps, each anchored to the invoice's due date:
``Remind`` (a message through the first usable channel of a list), ``Negotiate`` (a task for a
human collector, with a service level), and ``Handoff`` (the account goes to an extrajudicial
agency once negotiation has run out). Stopping when the invoice is paid, cancelled or written off
is not a step: the engine does it for every policy.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    VOICE = "voice"
    """An automated call that reads the message to the debtor."""


ContactClass = Literal["call", "written"]
"""What contact laws count: calls (and visits), or written contacts (email, SMS, WhatsApp)."""


def contact_class(channel: Channel) -> ContactClass:
    return "call" if channel is Channel.VOICE else "written"


class Tone(StrEnum):
    FRIENDLY = "friendly"
    NEUTRAL = "neutral"
    FIRM = "firm"
    FINAL = "final"


class StepKind(StrEnum):
    REMIND = "remind"
    NEGOTIATE = "negotiate"
    HANDOFF = "handoff"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Remind(_Frozen):
    """Send one message, through the first channel of ``channels`` the customer can receive."""

    kind: Literal[StepKind.REMIND] = StepKind.REMIND
    id: str
    offset_days: float = Field(
        description=(
            "Days from the due date; negative is before it. Whole days land on a local calendar"
            " day at ``send_at``; a fraction is a span of time from the due moment."
        )
    )
    channels: tuple[Channel, ...] = Field(min_length=1)
    template: str
    tone: Tone


class Negotiate(_Frozen):
    """Open a task for a collector; if nobody resolves it within ``sla_days`` it escalates."""

    kind: Literal[StepKind.NEGOTIATE] = StepKind.NEGOTIATE
    id: str
    offset_days: float = Field(description="As ``Remind.offset_days``.")
    queue: str
    sla_days: float = Field(gt=0, description="May be a fraction of a day (24 h each).")
    max_attempts: int = Field(default=3, gt=0, description="Tasks opened before giving up.")


class Handoff(_Frozen):
    """Hand the account to an external (extrajudicial) agency once negotiation has run out."""

    kind: Literal[StepKind.HANDOFF] = StepKind.HANDOFF
    id: str
    agency: str


Step = Annotated[Remind | Negotiate | Handoff, Field(discriminator="kind")]


class ContactWindow(_Frozen):
    """Local hours and weekdays (0 = Monday) in which a debtor may be contacted."""

    start: time = time(9, 0)
    end: time = time(19, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4, 5})


class ContactLimit(_Frozen):
    """At most ``max_contacts`` contacts of a class in any ``period_days`` consecutive days, counted
    per customer (every invoice together) or, with ``per_debt``, per invoice."""

    contact_class: ContactClass
    max_contacts: int = Field(ge=0)
    period_days: int = Field(default=7, ge=1)
    per_debt: bool = False
    source: str


class Policy(_Frozen):
    name: str
    version: int = Field(ge=1)
    description: str
    steps: tuple[Step, ...] = Field(min_length=1)
    send_at: time = Field(default=time(10, 0), description="Local time of scheduled contacts.")
    window: ContactWindow = ContactWindow()
    contact_limits: tuple[ContactLimit, ...] = Field(
        default=(), description="The policy's own caps, on top of the law's (never instead)."
    )
    min_gap_hours: int | None = Field(
        default=None, ge=0, description="The policy's own gap between written contacts."
    )
    promise_grace_days: int = Field(default=1, ge=0)
    payment_claim_days: int = Field(
        default=3, ge=1, description="How long an 'I already paid' waits for the money."
    )
    no_contact_retry_days: int = Field(default=1, ge=1)
    max_promise_days: int = Field(default=60, ge=1, description="Furthest date a promise may name.")
    broken_promise_notice: Remind | None = None
    dispute_resolution_days: int = Field(default=10, ge=1, description="A dispute's deadline.")
    dispute_owner: str = Field(default="disputes", description="Who owns a new dispute case.")
    plan_reminder_days: int = Field(
        default=3, ge=0, description="Days before each instalment its reminder goes out."
    )
    plan_channels: tuple[Channel, ...] = Field(
        default=(Channel.EMAIL, Channel.WHATSAPP, Channel.SMS), min_length=1
    )
    max_plan_days: int = Field(default=730, ge=1, description="Furthest a last instalment may be.")
    max_instalments: int = Field(default=36, ge=2)

    def step(self, step_id: str) -> Remind | Negotiate | Handoff:
        for step in self.steps:
            if step.id == step_id:
                return step
        if self.broken_promise_notice and self.broken_promise_notice.id == step_id:
            return self.broken_promise_notice
        raise KeyError(f"policy {self.name!r} has no step {step_id!r}")

    @property
    def negotiation(self) -> Negotiate | None:
        return next((s for s in self.steps if isinstance(s, Negotiate)), None)

    @property
    def handoff(self) -> Handoff | None:
        return next((s for s in self.steps if isinstance(s, Handoff)), None)
