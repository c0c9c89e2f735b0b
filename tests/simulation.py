"""Drive the pure engine through time, as the workflow does, with scripted interventions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dunning_policies import transitions as t
from dunning_policies.engine import (
    Action,
    Finished,
    SendMessage,
    apply_action,
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
    """Run an action as the workflow does, every message delivered on its first channel."""
    state = apply_action(policy, state, action, now)
    if isinstance(action, SendMessage):
        state = t.mark_sent(state, action.step, action.channel, now, {}, moved_by=action.moved_by)
    return state


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
