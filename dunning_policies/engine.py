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
    offset_moment,
    why_waited,
)
from dunning_policies.jurisdictions import effective_rules
from dunning_policies.language import Channel, Handoff, Negotiate, Policy, Remind, Tone
from dunning_policies.state import ClosedReason, Instalment, InvoiceState, Stage
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
    """The invoice's queued message must not go out any more (paid, paused, disputed...), or
    must be asked for again because what it says changed (``to_ask_again``)."""

    reason: str
    to_ask_again: bool = False


@dataclass(frozen=True)
class RecordInstalmentsPaid:
    covered: int
    """How many of the plan's instalments the payments now cover."""


@dataclass(frozen=True)
class BreakPlan:
    instalment: Instalment


@dataclass(frozen=True)
class FlagDisputeOverdue:
    case_id: str


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
    | RecordInstalmentsPaid
    | BreakPlan
    | FlagDisputeOverdue
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
    RecordInstalmentsPaid: 0,
    BreakPlan: 1,
    FlagDisputeOverdue: 0,
    ExpireTask: 0,
    HandOff: 1,
    SendMessage: 2,
    GiveUpStep: 2,
    OpenNegotiationTask: 3,
}


def step_moment(policy: Policy, state: InvoiceState, step: Remind | Negotiate) -> datetime:
    # A dispute's days do not count: dunning resumes where it was, not where the calendar is.
    return offset_moment(
        state.due_on,
        step.offset_days + state.schedule_shift_days,
        policy.send_at,
        state.customer.timezone,
    )


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
    broken = next(
        (e for e in reversed(state.timeline) if e.kind in ("promise_broken", "plan_broken")), None
    )
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


PLAN_MESSAGES = (
    ("reminder", "instalment_reminder", Tone.FRIENDLY),
    ("due", "instalment_due", Tone.NEUTRAL),
)


def plan_step(policy: Policy, step_id: str) -> Remind | None:
    """The message step an instalment's id names (``plan1-2-due``), or None if it names none."""
    if instalment_of(step_id) is None:
        return None
    for kind, template, tone in PLAN_MESSAGES:
        if step_id.endswith(f"-{kind}"):
            return Remind(
                id=step_id,
                offset_days=0,
                channels=policy.plan_channels,
                template=template,
                tone=tone,
            )
    return None


def instalment_of(step_id: str) -> int | None:
    """The instalment number an instalment message's step id carries."""
    parts = step_id.split("-")
    if len(parts) != 3 or not parts[0].startswith("plan") or not parts[1].isdigit():
        return None
    return int(parts[1])


def message_step(policy: Policy, step_id: str) -> Remind | None:
    """Any message step by id: the policy's, a broken-promise notice, an instalment's."""
    notice = policy.broken_promise_notice
    if notice is not None and step_id.startswith(f"{notice.id}-"):
        return notice.model_copy(update={"id": step_id})
    found = plan_step(policy, step_id)
    if found is not None:
        return found
    try:
        step = policy.step(step_id)
    except KeyError:
        return None
    return step if isinstance(step, Remind) else None


def _plan_decision(policy: Policy, state: InvoiceState, now: datetime) -> Decision:
    """On a payment plan the policy's steps wait; each instalment has its reminder, its due-day
    notice and, after the grace days, the check that breaks the plan if it is unpaid."""
    plan = state.plan
    assert plan is not None
    covered = plan.covered(state.amount_paid)
    if covered > plan.instalments_recorded:
        return Decision(RecordInstalmentsPaid(covered), now)
    instalment = plan.instalments[covered]
    candidates = [Decision(BreakPlan(instalment), t.instalment_deadline(state, policy, instalment))]
    messages: list[tuple[Remind, datetime]] = []
    for kind, _, _ in PLAN_MESSAGES:
        days_before = policy.plan_reminder_days if kind == "reminder" else 0
        if kind == "reminder" and days_before == 0:
            continue
        step = plan_step(policy, f"{plan.plan_id}-{instalment.number}-{kind}")
        assert step is not None
        day = instalment.due_on - timedelta(days=days_before)
        messages.append((step, local_moment(day, policy.send_at, state.customer.timezone)))
    pending = [(step, at) for step, at in messages if step.id not in state.steps]
    in_flight = state.contact_in_flight.step_id if state.contact_in_flight else None
    waiting = [(step, at) for step, at in pending if step.id != in_flight]
    if waiting:
        past = [(step, at) for step, at in waiting if at <= now]
        current, moment = past[-1] if past else waiting[0]
        ids = [step.id for step, _ in pending]
        skipped = tuple(ids[: ids.index(current.id)])
        candidates.append(
            _contact(policy, state, current, now if past else moment, skipped, moment)
        )
    return _first(state, candidates)


def _stale_reason(state: InvoiceState) -> str | None:
    """What changed since the queued message was asked for, so that it is asked for again."""
    in_flight = state.contact_in_flight
    assert in_flight is not None
    if in_flight.amount_due is not None and in_flight.amount_due != state.amount_due:
        return "amount due changed"
    talked = t.last_conversation_at(state)
    if talked is not None and talked != in_flight.conversation_at:
        return "a conversation since"
    return None


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
    in_flight = state.contact_in_flight
    if (
        state.plan is not None
        and in_flight
        and not in_flight.step_id.startswith(f"{state.plan.plan_id}-")
    ):
        return "payment plan agreed"
    instalment = instalment_of(in_flight.step_id) if in_flight else None
    if instalment is not None and (
        state.plan is None or state.plan.covered(state.amount_paid) >= instalment
    ):
        return "instalment paid"
    if state.handed_off:
        return "with the collection agency"
    return None


def next_action(policy: Policy, state: InvoiceState, now: datetime) -> Decision:
    if state.contact_in_flight is not None:
        withdraw_reason = _withdraw_reason(state)
        if withdraw_reason is not None:
            return Decision(WithdrawContact(withdraw_reason), now)
        stale_reason = _stale_reason(state)
        if stale_reason is not None:
            return Decision(WithdrawContact(stale_reason, to_ask_again=True), now)
    if state.closed_reason is not None:
        return Decision(Finished(state.closed_reason), None)
    # A promise or plan that the money just honoured is recorded as kept before the invoice
    # closes: the kept rate counts it.
    promise = state.promise
    if promise is not None and state.amount_paid - promise.paid_before >= promise.amount:
        return Decision(SettlePromise(kept=True), now)
    plan = state.plan
    if plan is not None and plan.covered(state.amount_paid) > plan.instalments_recorded:
        return Decision(RecordInstalmentsPaid(plan.covered(state.amount_paid)), now)
    if state.amount_due <= 0:
        credited_in_full = state.amount_credited >= state.original_amount
        return Decision(Close("credited" if credited_in_full else "paid"), now)
    if state.dispute_reason is not None:
        case = state.dispute
        if case is not None and not case.overdue:
            return Decision(FlagDisputeOverdue(case.case_id), t.dispute_deadline(state, policy))
        return Decision(Wait(f"dispute open: {state.dispute_reason}"), None)
    if state.paused:
        return Decision(Wait("paused by an operator"), None)
    if state.promise is not None:
        paid_since = state.amount_paid - state.promise.paid_before
        if paid_since >= state.promise.amount:
            return Decision(SettlePromise(kept=True), now)
        return Decision(SettlePromise(kept=False), promise_deadline(state, policy))
    if state.plan is not None:
        return _plan_decision(policy, state, now)
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
        # The firmer notice speaks for the reminders that fell due while the promise ran.
        overtaken = tuple(
            step.id
            for step in policy.steps
            if isinstance(step, Remind)
            and step.id not in state.steps
            and step_moment(policy, state, step) <= now
        )
        candidates.append(
            _contact(policy, state, notice, now, overtaken, _notice_owed_since(state, now))
        )
    scheduled = _scheduled_step(policy, state, now)
    if scheduled is not None:
        candidates.append(scheduled)
    if not candidates:
        return Decision(Wait("every step is done; waiting for payment"), None)
    return _first(state, candidates)


def _first(state: InvoiceState, candidates: list[Decision]) -> Decision:
    """The candidate due first. While a message of this invoice waits in the customer's queue,
    another message waits too, unless it replaces the queued one (a later step): one invoice
    has one message on its way at a time."""
    in_flight = state.contact_in_flight
    if in_flight is not None:
        candidates = [
            d
            for d in candidates
            if not isinstance(d.action, SendMessage | GiveUpStep)
            or in_flight.step_id in d.action.skipped
        ]
        if not candidates:
            return Decision(Wait(f"message {in_flight.step_id} queued for the customer"), None)
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
    if state.plan is not None:
        return Stage.PAYMENT_PLAN
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
        case WithdrawContact(reason=reason, to_ask_again=to_ask_again):
            return t.withdraw_contact(state, now, reason, to_ask_again=to_ask_again)
        case RecordInstalmentsPaid(covered=covered):
            return t.record_instalments_paid(state, covered, now)
        case BreakPlan(instalment=instalment):
            return t.break_plan(state, policy, instalment, now)
        case FlagDisputeOverdue():
            return t.flag_dispute_overdue(state, now)
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
