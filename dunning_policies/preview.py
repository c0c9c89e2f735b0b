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
    ExpireTask,
    Finished,
    GiveUpStep,
    HandOff,
    OpenNegotiationTask,
    SendMessage,
    SettlePromise,
    Wait,
    next_action,
)
from dunning_policies.language import Channel, Policy, StepKind
from dunning_policies.state import Customer, InvoiceState
from dunning_policies.transitions import (
    expire_task,
    hand_off,
    mark_skipped,
    mark_undeliverable,
    open_task,
    settle_promise,
)
from dunning_policies.transitions import mark_sent as _mark_sent


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

    def as_dict(self) -> dict[str, str | None]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind.value,
            "step": self.step_id,
            "channel": self.channel.value if self.channel else None,
            "template": self.template,
            "tone": str(self.tone) if self.tone else None,
            "detail": self.detail,
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
) -> InvoiceState:
    return InvoiceState(
        invoice_number="PREVIEW",
        currency=currency,
        original_amount=amount,
        issued_on=issued_on or due_on - timedelta(days=30),
        due_on=due_on,
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
        if isinstance(action, SendMessage | GiveUpStep | OpenNegotiationTask):
            state = mark_skipped(state, action.skipped, now)
        match action:
            case SendMessage(step=step, channel=channel):
                state = _mark_sent(state, step, channel, now, {})
                planned.append(
                    PlannedStep(local, StepKind.REMIND, step.id, channel, step.template, step.tone)
                )
            case GiveUpStep(step=step, reason=reason):
                state = mark_undeliverable(state, step, now, reason)
            case OpenNegotiationTask(step=step):
                state = open_task(state, step, now)
                task = state.negotiation.task
                assert task is not None
                planned.append(
                    PlannedStep(
                        local,
                        StepKind.NEGOTIATE,
                        step.id,
                        None,
                        None,
                        None,
                        f"queue {step.queue}, SLA {step.sla_days} days",
                    )
                )
            case ExpireTask():
                state = expire_task(state, now)
            case SettlePromise(kept=kept):
                state = settle_promise(state, policy, kept, now)
            case HandOff(step=step, reason=reason):
                state = hand_off(state, step, now, reason)
                planned.append(
                    PlannedStep(local, StepKind.HANDOFF, step.id, None, None, None, reason)
                )
    return planned
