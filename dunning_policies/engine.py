"""The engine: given a policy, an invoice's state and "now", what happens next, and when.

Pure: no I/O, no clock, no randomness. The workflow, the preview, the simulator and the tests
all call ``next_action``; there is no second copy of these rules anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dunning_policies import transitions as t
from dunning_policies.calendar import (
    days_past_due,
    local_moment,
    next_allowed_moment,
    next_contact_moment,
    why_waited,
)
from dunning_policies.jurisdictions import effective_rules
from dunning_policies.language import Channel, Handoff, Negotiate, Policy, Remind
from dunning_policies.state import ClosedReason, InvoiceState, Stage
from dunning_policies.transitions import promise_deadline


@dataclass(frozen=True)
class SendMessage:
    step: Remind
    channel: Channel
    skipped: tuple[str, ...] = ()
    moved_by: str | None = None
    """The rule that kept the contact from its own moment (a holiday, the hours), in words."""


@dataclass(frozen=True)
class GiveUpStep:
    """No channel of the step can reach the customer: recorded, and the policy moves on."""

    step: Remind
    reason: str
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class OpenNegotiationTask:
    step: Negotiate
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class WithdrawContact:
    """The invoice's queued message must not go out any more (paid, paused, disputed...)."""

    reason: str


@dataclass(frozen=True)
class ExpireTask:
    task_id: str


@dataclass(frozen=True)
class SettlePromise:
    kept: bool


@dataclass(frozen=True)
class HandOff:
    step: Handoff
    reason: str


@dataclass(frozen=True)
class Close:
    reason: ClosedReason


@dataclass(frozen=True)
class Finished:
    reason: str


@dataclass(frozen=True)
class Wait:
    """Nothing is scheduled: only a payment, a collector or an operator moves the invoice on."""

    reason: str


Action = (
    WithdrawContact
    | SendMessage
    | GiveUpStep
    | OpenNegotiationTask
    | ExpireTask
    | SettlePromise
    | HandOff
    | Close
    | Finished
    | Wait
)


@dataclass(frozen=True)
class Decision:
    action: Action
    at: datetime | None
    """When the action is due; ``None`` for ``Wait`` and ``Finished``."""


# When two actions fall due at the same instant, the one listed first runs first.
_PRIORITY: dict[type, int] = {
    WithdrawContact: 0,
    ExpireTask: 0,
    HandOff: 1,
    SendMessage: 2,
    GiveUpStep: 2,
    OpenNegotiationTask: 3,
}


def step_moment(policy: Policy, state: InvoiceState, step: Remind | Negotiate) -> datetime:
    day = state.due_on + timedelta(days=step.offset_days)
    return local_moment(day, policy.send_at, state.customer.timezone)


def usable_channels(state: InvoiceState, step: Remind) -> tuple[Channel, ...]:
    tried = state.failed_channels.get(step.id, ())
    return tuple(
        channel
        for channel in step.channels
        if channel in state.customer.channels
        and channel not in state.unusable_channels
        and channel not in tried
    )


def _contact(
    policy: Policy,
    state: InvoiceState,
    step: Remind,
    at: datetime,
    skipped: tuple[str, ...],
    owed_since: datetime,
) -> Decision:
    """Contact at ``at`` or at the next moment the rules allow. ``owed_since``: when the contact
    first fell due, so the message can say what kept it waiting."""
    channels = usable_channels(state, step)
    if not channels:
        reasons = [f"{c}: {state.unusable_channels.get(c, 'not reachable')}" for c in step.channels]
        return Decision(
            GiveUpStep(step, "no usable channel (" + "; ".join(reasons) + ")", skipped), at
        )
    if not state.respect_contact_window:
        return Decision(SendMessage(step, channels[0], skipped), at)
    timezone = state.customer.timezone
    if state.contact_rules is None:
        # A workflow started before rule packs replays exactly as it first ran.
        allowed = next_allowed_moment(at, policy.window, timezone)
        return Decision(SendMessage(step, channels[0], skipped), allowed)
    rules = effective_rules(state.contact_rules, policy)
    try:
        allowed, _ = next_contact_moment(at, rules, timezone)
    except ValueError as error:
        # The policy's window and the law's never overlap: no legal moment exists.
        return Decision(GiveUpStep(step, f"no moment to contact: {error}", skipped), at)
    moved_by = why_waited(owed_since, allowed, rules, timezone)
    return Decision(SendMessage(step, channels[0], skipped, moved_by), allowed)


def _notice_owed_since(state: InvoiceState, now: datetime) -> datetime:
    """When the pending broken-promise notice fell due: the promise's breaking."""
    broken = next((e for e in reversed(state.timeline) if e.kind == "promise_broken"), None)
    return broken.at if broken is not None else now


def _scheduled_step(policy: Policy, state: InvoiceState, now: datetime) -> Decision | None:
    """The next policy step by the calendar. When several messages are already past (the invoice
    entered late, or the worker was down), only the latest one is sent and the older ones are
    skipped: never a burst of stale messages. A collector's task is never skipped: a person
    takes the case over even when the invoice arrives late."""
    pending = [
        step
        for step in policy.steps
        if step.id not in state.steps and isinstance(step, Remind | Negotiate)
    ]
    if not pending:
        return None
    # A message already with the customer's contact workflow waits there; only a later step
    # falling due replaces it.
    in_flight = state.contact_in_flight.step_id if state.contact_in_flight else None
    waiting = [step for step in pending if step.id != in_flight]
    if not waiting:
        return None
    past = [step for step in waiting if step_moment(policy, state, step) <= now]
    late_negotiation = next((step for step in past if isinstance(step, Negotiate)), None)
    if late_negotiation is not None:
        skipped = tuple(step.id for step in pending[: pending.index(late_negotiation)])
        return Decision(OpenNegotiationTask(late_negotiation, skipped), now)
    if past:
        current = past[-1]
        skipped = tuple(step.id for step in pending[: pending.index(current)])
        at = now
    else:
        current, at = waiting[0], step_moment(policy, state, waiting[0])
        skipped = tuple(step.id for step in pending[: pending.index(current)])
    if isinstance(current, Negotiate):
        return Decision(OpenNegotiationTask(current, skipped), at)
    return _contact(policy, state, current, at, skipped, step_moment(policy, state, current))


def _withdraw_reason(state: InvoiceState) -> str | None:
    if state.closed_reason is not None:
        return f"invoice {state.closed_reason}"
    if state.amount_due <= 0:
        return "invoice paid"
    if state.dispute_reason is not None:
        return "dispute open"
    if state.paused:
        return "paused by an operator"
    if state.promise is not None:
        return "promise to pay"
    if state.handed_off:
        return "with the collection agency"
    return None


def next_action(policy: Policy, state: InvoiceState, now: datetime) -> Decision:
    if state.contact_in_flight is not None:
        withdraw_reason = _withdraw_reason(state)
        if withdraw_reason is not None:
            return Decision(WithdrawContact(withdraw_reason), now)
    if state.closed_reason is not None:
        return Decision(Finished(state.closed_reason), None)
    if state.amount_due <= 0:
        credited_in_full = state.amount_credited >= state.original_amount
        return Decision(Close("credited" if credited_in_full else "paid"), now)
    if state.dispute_reason is not None:
        return Decision(Wait(f"dispute open: {state.dispute_reason}"), None)
    if state.paused:
        return Decision(Wait("paused by an operator"), None)
    if state.promise is not None:
        paid_since = state.amount_paid - state.promise.paid_before
        if paid_since >= state.promise.amount:
            return Decision(SettlePromise(kept=True), now)
        return Decision(SettlePromise(kept=False), promise_deadline(state, policy))
    if state.handed_off:
        return Decision(Wait("with the collection agency"), None)

    candidates: list[Decision] = []
    negotiation = state.negotiation
    if negotiation.task is not None:
        candidates.append(Decision(ExpireTask(negotiation.task.id), negotiation.task.sla_due_at))
    elif negotiation.exhausted_reason is not None and policy.handoff is not None:
        candidates.append(Decision(HandOff(policy.handoff, negotiation.exhausted_reason), now))
    elif negotiation.retry_at is not None and policy.negotiation is not None:
        candidates.append(Decision(OpenNegotiationTask(policy.negotiation), negotiation.retry_at))
    notice_in_flight = (
        state.contact_in_flight is not None
        and state.contact_in_flight.step_id == state.pending_notice
    )
    if (
        state.pending_notice is not None
        and policy.broken_promise_notice is not None
        and not notice_in_flight
    ):
        notice = policy.broken_promise_notice.model_copy(update={"id": state.pending_notice})
        candidates.append(_contact(policy, state, notice, now, (), _notice_owed_since(state, now)))
    scheduled = _scheduled_step(policy, state, now)
    if scheduled is not None:
        candidates.append(scheduled)
    if not candidates:
        return Decision(Wait("every step is done; waiting for payment"), None)
    return min(candidates, key=lambda d: (d.at, _PRIORITY[type(d.action)]))


def stage_of(state: InvoiceState, now: datetime) -> Stage:
    if state.closed_reason == "cancelled":
        return Stage.CANCELLED
    if state.closed_reason == "written_off":
        return Stage.WRITTEN_OFF
    if state.closed_reason == "credited":
        return Stage.CREDITED
    if state.closed_reason == "paid" or state.amount_due <= 0:
        return Stage.PAID
    if state.handed_off:
        return Stage.HANDOFF
    if state.dispute_reason is not None:
        return Stage.DISPUTED
    if state.paused:
        return Stage.PAUSED
    if state.promise is not None:
        return Stage.PROMISE
    if state.negotiation.attempts:
        return Stage.NEGOTIATION
    overdue_days = days_past_due(state.due_on, now, state.customer.timezone)
    if overdue_days < 0:
        return Stage.CURRENT
    return Stage.DUE if overdue_days == 0 else Stage.OVERDUE


def apply_action(
    policy: Policy, state: InvoiceState, action: Action, now: datetime
) -> InvoiceState:
    """The state after running ``action`` at ``now`` — all of it but a message's delivery, which
    only the channel can tell: for ``SendMessage`` the caller then records ``mark_sent`` or
    ``mark_channel_failed``. The workflow, the preview and the simulations share this."""
    if isinstance(action, SendMessage | GiveUpStep | OpenNegotiationTask):
        state = t.mark_skipped(state, action.skipped, now)
    match action:
        case WithdrawContact(reason=reason):
            return t.withdraw_contact(state, now, reason)
        case GiveUpStep(step=step, reason=reason):
            return t.mark_undeliverable(state, step, now, reason)
        case OpenNegotiationTask(step=step):
            return t.open_task(state, step, now)
        case ExpireTask():
            return t.expire_task(state, now)
        case SettlePromise(kept=kept):
            return t.settle_promise(state, policy, kept, now)
        case HandOff(step=step, reason=reason):
            return t.hand_off(state, step, now, reason)
        case Close(reason=reason):
            return t.close(state, reason, now)
    return state
