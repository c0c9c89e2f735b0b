"""Plan an invoice's whole timeline under a policy, if nobody pays and nobody answers.

It drives the very same engine and transitions as the workflow, with a simulated clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from dunning_policies.calendar import local_moment, zone
from dunning_policies.engine import (
    Close,
    Finished,
    HandOff,
    OpenNegotiationTask,
    SendMessage,
    Wait,
    apply_action,
    next_action,
)
from dunning_policies.jurisdictions import DebtType, rules_for_customer
from dunning_policies.language import Channel, Policy, StepKind
from dunning_policies.state import Customer, InvoiceState
from dunning_policies.transitions import mark_sent


@dataclass(frozen=True)
class PlannedStep:
    at: datetime
    """In the customer's own time zone (ISO 8601 carries its UTC offset)."""
    kind: StepKind
    step_id: str
    channel: Channel | None
    template: str | None
    tone: str | None
    detail: str | None = None
    """A message's: the rule that moved it, if one did. A task's queue, a handoff's reason."""

    @property
    def moved_by(self) -> str | None:
        return self.detail if self.kind is StepKind.REMIND else None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind.value,
            "step": self.step_id,
            "channel": self.channel.value if self.channel else None,
            "template": self.template,
            "tone": str(self.tone) if self.tone else None,
            "detail": self.detail,
            "moved_by": self.moved_by,
        }


def preview_state(
    due_on: date,
    *,
    timezone: str = "America/Santiago",
    country: str = "CL",
    locale: str = "es_CL",
    currency: str = "CLP",
    amount: Decimal = Decimal(1_000_000),
    channels: frozenset[Channel] = frozenset(Channel),
    issued_on: date | None = None,
    debt_type: DebtType = DebtType.CONSUMER,
    subdivision: str | None = None,
) -> InvoiceState:
    return InvoiceState(
        invoice_number="PREVIEW",
        currency=currency,
        original_amount=amount,
        issued_on=issued_on or due_on - timedelta(days=30),
        due_on=due_on,
        contact_rules=rules_for_customer(country, debt_type, subdivision, due_on),
        customer=Customer(
            id="PREVIEW", country=country, timezone=timezone, locale=locale, channels=channels
        ),
    )


def plan(policy: Policy, state: InvoiceState, start: datetime | None = None) -> list[PlannedStep]:
    """Every action the engine would take from ``start`` (default: issuance) on."""
    tz = zone(state.customer.timezone)
    now = start or local_moment(state.issued_on, policy.window.start, state.customer.timezone)
    planned: list[PlannedStep] = []
    for _ in range(10 * len(policy.steps) + 10):
        decision = next_action(policy, state, now)
        action = decision.action
        if decision.at is None or isinstance(action, Finished | Wait | Close):
            break
        if decision.at > now:
            # As the workflow does: sleep until then, and decide again with the new "now".
            now = decision.at
            continue
        local = now.astimezone(tz)
        state = apply_action(policy, state, action, now)
        match action:
            case SendMessage(step=step, channel=channel, moved_by=moved_by):
                state = mark_sent(state, step, channel, now, {}, moved_by=moved_by)
                planned.append(
                    PlannedStep(
                        local, StepKind.REMIND, step.id, channel, step.template, step.tone, moved_by
                    )
                )
            case OpenNegotiationTask(step=step):
                detail = f"queue {step.queue}, SLA {step.sla_days} days"
                planned.append(
                    PlannedStep(local, StepKind.NEGOTIATE, step.id, None, None, None, detail)
                )
            case HandOff(step=step, reason=reason):
                planned.append(
                    PlannedStep(local, StepKind.HANDOFF, step.id, None, None, None, reason)
                )
    return planned
