"""All of one customer's invoices and their contact engine, driven by a simulated clock.

The same steps the workflows take, with no Temporal: each invoice's engine decides, a message
goes to the customer's contact queue, the contact engine sends (alone or consolidated) when the
rules allow, and each invoice records what became of its message. The preview and the property
tests use it; it assumes every send succeeds and nobody pays or answers, unless the caller's
``events`` hook brings such news in (the policy simulator's payers do).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from dunning_policies import contact as c
from dunning_policies import transitions as t
from dunning_policies.contact import (
    ContactRequest,
    CustomerContactState,
    GiveUpContact,
    SendContact,
)
from dunning_policies.engine import (
    Finished,
    SendMessage,
    Wait,
    WithdrawContact,
    apply_action,
    next_action,
    usable_channels,
)
from dunning_policies.jurisdictions import effective_rules
from dunning_policies.language import Channel, Policy, Remind
from dunning_policies.state import InvoiceState


@dataclass(frozen=True)
class SentContact:
    at: datetime
    channel: Channel
    invoices: tuple[str, ...]
    steps: tuple[str, ...]
    moved_by: tuple[str, ...]


@dataclass
class CustomerRun:
    invoices: dict[str, InvoiceState]
    contact: CustomerContactState
    sent: list[SentContact] = field(default_factory=list)


EventHook = Callable[[CustomerRun, datetime], datetime | None]
"""Called at every turn of the clock, before the invoices act: it may change ``run.invoices``
(apply a payment through the transitions, add an invoice issued at that moment, with its policy
in the caller's ``policies`` mapping) and returns the next moment it wants to be called, if any
(only a moment after ``now`` counts)."""


def contact_state_for(policy: Policy, state: InvoiceState) -> CustomerContactState:
    rules = state.contact_rules
    return CustomerContactState(
        customer_id=state.customer.id,
        timezone=state.customer.timezone,
        rules=effective_rules(rules, policy) if rules is not None else None,
        respect_rules=state.respect_contact_window,
    )


def _request(
    state: InvoiceState, action: SendMessage, due_at: datetime, now: datetime
) -> ContactRequest:
    usable = usable_channels(state, action.step)
    return ContactRequest(
        workflow_id=f"invoice-{state.invoice_number}",
        invoice_number=state.invoice_number,
        step_id=action.step.id,
        channels=(action.channel, *(ch for ch in usable if ch != action.channel)),
        template=action.step.template,
        tone=action.step.tone,
        amount_due=state.amount_due,
        original_amount=state.original_amount,
        currency=state.currency,
        due_on=state.due_on,
        not_before=max(due_at, now),
        moved_by=action.moved_by,
        last_conversation_at=t.last_conversation_at(state),
    )


def simulate_customer(
    policies: Mapping[str, Policy],
    invoices: Mapping[str, InvoiceState],
    start: datetime,
    until: datetime,
    *,
    max_rounds: int = 10_000,
    events: EventHook | None = None,
) -> CustomerRun:
    """Run every invoice (keyed by number, each with its policy) from ``start`` to ``until``."""
    first = next(iter(invoices.values()))
    run = CustomerRun(
        invoices=dict(invoices),
        contact=contact_state_for(policies[first.invoice_number], first),
    )
    now = start
    for _ in range(max_rounds):
        upcoming: list[datetime] = []
        if events is not None:
            wake = events(run, now)
            if wake is not None and wake > now:
                upcoming.append(wake)
        progressed = False
        for number, state in list(run.invoices.items()):
            policy = policies[number]
            decision = next_action(policy, state, now)
            if isinstance(decision.action, Finished | Wait) or decision.at is None:
                continue
            # Messages are queued ahead of their moment, as the invoice workflow queues them.
            run_at = decision.at
            if isinstance(decision.action, SendMessage) and state.contact_in_flight is None:
                run_at = max(now, decision.at - c.QUEUE_AHEAD)
            if run_at > now:
                upcoming.append(run_at)
                continue
            action = decision.action
            queued = state.contact_in_flight
            state = apply_action(policy, state, action, now)
            workflow_id = f"invoice-{number}"
            if isinstance(action, SendMessage):
                request = _request(state, action, decision.at, now)
                dropped = c.displaced(run.contact, workflow_id, keep=request.key)
                run.contact = c.request_contact(run.contact, request)
                state = t.contact_requested(state, action.step, now)
                state = _confirm_dropped(state, dropped, now)
            elif isinstance(action, WithdrawContact) or (
                queued is not None and state.contact_in_flight is None
            ):
                # Withdrawn, or taken back because a later step (a collector's task) replaced it.
                dropped = c.displaced(run.contact, workflow_id)
                run.contact = c.withdraw(run.contact, workflow_id)
                state = _confirm_dropped(state, dropped, now)
            run.invoices[number] = state
            progressed = True
        if progressed:
            continue
        run.contact = c.forget_expired(run.contact, now)
        contact_decision = c.next_contact(run.contact, now)
        if contact_decision.at is not None and contact_decision.at <= now:
            _deliver(run, policies, contact_decision.action, now)
            continue
        if contact_decision.at is not None:
            run.contact = c.hold(run.contact, contact_decision)
            upcoming.append(contact_decision.at)
        upcoming = [moment for moment in upcoming if moment <= until]
        if not upcoming:
            return run
        now = min(upcoming)
    raise RuntimeError(f"customer simulation did not settle in {max_rounds} rounds")


def _confirm_dropped(
    state: InvoiceState, dropped: tuple[ContactRequest, ...], now: datetime
) -> InvoiceState:
    """The contact queue tells the invoice that its replaced message never left."""
    for request in dropped:
        state = t.confirm_replaced(state, request.step_id, now)
    return state


def _deliver(
    run: CustomerRun, policies: Mapping[str, Policy], action: c.ContactAction, now: datetime
) -> None:
    if isinstance(action, SendContact):
        run.contact = c.record_sent(run.contact, action, now, f"m{run.contact.messages + 1}")
        run.sent.append(
            SentContact(
                at=now,
                channel=action.channel,
                invoices=tuple(r.invoice_number for r in action.requests),
                steps=tuple(r.step_id for r in action.requests),
                moved_by=action.moved_by,
            )
        )
    elif isinstance(action, GiveUpContact):
        run.contact = c.record_given_up(run.contact, action)
    else:
        return
    for request in action.requests:
        state = run.invoices[request.invoice_number]
        step = _step(policies[request.invoice_number], request.step_id)
        if isinstance(action, SendContact):
            moved_by = "; ".join(action.moved_by) or None
            state = t.mark_sent(state, step, action.channel, now, {}, moved_by=moved_by)
        else:
            state = t.mark_undeliverable(state, step, now, action.reason)
        run.invoices[request.invoice_number] = state


def _step(policy: Policy, step_id: str) -> Remind:
    notice = policy.broken_promise_notice
    if notice is not None and step_id.startswith(f"{notice.id}-"):
        return notice.model_copy(update={"id": step_id})
    step = policy.step(step_id)
    assert isinstance(step, Remind), step_id
    return step
