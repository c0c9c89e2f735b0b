"""Drive the pure engine through time, as the workflow does, with scripted interventions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dunning_policies import transitions as t
from dunning_policies.engine import (
    Action,
    Close,
    ExpireTask,
    Finished,
    GiveUpStep,
    HandOff,
    OpenNegotiationTask,
    SendMessage,
    SettlePromise,
    next_action,
)
from dunning_policies.language import Policy
from dunning_policies.state import InvoiceState

Intervention = Callable[[InvoiceState, datetime], InvoiceState]


@dataclass(frozen=True)
class Executed:
    at: datetime
    action: Action
    amount_due_before: object


def execute(policy: Policy, state: InvoiceState, action: Action, now: datetime) -> InvoiceState:
    if isinstance(action, SendMessage | GiveUpStep | OpenNegotiationTask):
        state = t.mark_skipped(state, action.skipped, now)
    match action:
        case SendMessage(step=step, channel=channel):
            return t.mark_sent(state, step, channel, now, {})
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
    raise AssertionError(action)


def simulate(
    policy: Policy,
    state: InvoiceState,
    start: datetime,
    interventions: list[tuple[datetime, Intervention]] = (),  # type: ignore[assignment]
    limit: int = 200,
) -> tuple[InvoiceState, list[Executed]]:
    pending = sorted(interventions, key=lambda item: item[0])
    now, executed = start, []
    for _ in range(limit):
        decision = next_action(policy, state, now)
        if isinstance(decision.action, Finished):
            break
        upcoming = pending[0][0] if pending else None
        if decision.at is None or (upcoming is not None and upcoming <= decision.at):
            if upcoming is None:
                break
            at, intervene = pending.pop(0)
            now = max(now, at)
            state = intervene(state, now)
            continue
        if decision.at > now:
            # As the workflow does: sleep until then, and decide again with the new "now".
            now = decision.at
            continue
        executed.append(Executed(now, decision.action, state.amount_due))
        state = execute(policy, state, decision.action, now)
    return state, executed
