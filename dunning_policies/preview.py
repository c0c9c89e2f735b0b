"""Plan an invoice's whole timeline under a policy, if nobody pays and nobody answers.

It drives the very same engine and transitions as the workflow, with a simulated clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from dunning_policies.calendar import local_moment, zone
from dunning_policies.customer_simulation import simulate_customer
from dunning_policies.jurisdictions import DebtType, rules_for_customer
from dunning_policies.language import Channel, Policy, StepKind
from dunning_policies.state import Customer, InvoiceState

# How long after the last step's day the preview keeps watching (task SLAs, the handoff).
PREVIEW_TAIL_DAYS = 90


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
        replacements_confirmed=True,
    )


def plan(policy: Policy, state: InvoiceState, start: datetime | None = None) -> list[PlannedStep]:
    """Every action the engine would take from ``start`` (default: issuance) on, with the
    customer's contact engine deciding when each message really goes (caps and gaps too)."""
    tz = zone(state.customer.timezone)
    now = start or local_moment(state.issued_on, policy.window.start, state.customer.timezone)
    last_offset = max((getattr(step, "offset_days", 0) for step in policy.steps), default=0)
    horizon = local_moment(
        state.due_on + timedelta(days=last_offset + PREVIEW_TAIL_DAYS),
        policy.window.start,
        state.customer.timezone,
    )
    number = state.invoice_number
    run = simulate_customer({number: policy}, {number: state}, now, max(horizon, now))
    planned: list[PlannedStep] = []
    for event in run.invoices[number].timeline:
        local = event.at.astimezone(tz)
        match event.kind:
            case "message_sent":
                planned.append(
                    PlannedStep(
                        local,
                        StepKind.REMIND,
                        event.step_id or "",
                        event.channel,
                        event.template,
                        event.tone,
                        event.detail.get("moved_by"),
                    )
                )
            case "task_opened":
                step = policy.step(event.step_id or "")
                sla = getattr(step, "sla_days", "?")
                detail = f"queue {event.detail.get('queue')}, SLA {sla} days"
                planned.append(
                    PlannedStep(
                        local, StepKind.NEGOTIATE, event.step_id or "", None, None, None, detail
                    )
                )
            case "handed_off":
                planned.append(
                    PlannedStep(
                        local,
                        StepKind.HANDOFF,
                        event.step_id or "",
                        None,
                        None,
                        None,
                        event.detail.get("reason"),
                    )
                )
    return planned
