"""A later step replaces a message queued with the customer's contact workflow: the invoice
records the replaced step once it hears what became of it — skipped if it was dropped unsent,
sent if it was already on its way out. Never both."""

from __future__ import annotations

from datetime import date, timedelta

from dunning_policies import transitions as t
from dunning_policies.engine import SendMessage, apply_action, next_action
from dunning_policies.language import Channel, Remind
from dunning_policies.policies.standard import POLICY as STANDARD
from dunning_policies.state import InvoiceState, StepStatus
from tests.factories import local, make_state

DUE = date(2026, 12, 1)


def _step(step_id: str) -> Remind:
    step = STANDARD.step(step_id)
    assert isinstance(step, Remind)
    return step


def _replaced(state: InvoiceState) -> InvoiceState:
    """overdue_3 queued, then overdue_10's moment comes while it still waits."""
    queued_at = local(DUE + timedelta(days=2))
    for step_id in ("preventive", "due_day"):
        state = t.mark_sent(state, _step(step_id), Channel.EMAIL, queued_at, {})
    state = t.contact_requested(state, _step("overdue_3"), queued_at)
    now = local(DUE + timedelta(days=10))
    decision = next_action(STANDARD, state, now)
    assert isinstance(decision.action, SendMessage)
    assert decision.action.step.id == "overdue_10"
    assert decision.action.skipped == ("overdue_3",)
    return apply_action(STANDARD, state, decision.action, now)


def _kinds(state: InvoiceState, step_id: str) -> list[str]:
    return [e.kind for e in state.timeline if e.step_id == step_id]


def test_the_replaced_step_waits_for_the_contact_workflows_word() -> None:
    state = _replaced(make_state(DUE))
    assert state.steps["overdue_3"] is StepStatus.REPLACED
    assert _kinds(state, "overdue_3") == []
    assert state.contact_in_flight is None


def test_dropped_unsent_it_is_skipped_once() -> None:
    state = _replaced(make_state(DUE))
    at = local(DUE + timedelta(days=10)) + timedelta(seconds=3)
    state = t.confirm_replaced(state, "overdue_3", at)
    assert state.steps["overdue_3"] is StepStatus.SKIPPED
    assert _kinds(state, "overdue_3") == ["step_skipped"]
    # Told again (a retried signal): nothing more.
    assert t.confirm_replaced(state, "overdue_3", at) is state


def test_already_on_its_way_out_it_is_sent_and_never_skipped() -> None:
    state = _replaced(make_state(DUE))
    at = local(DUE + timedelta(days=10)) + timedelta(seconds=3)
    state = t.mark_sent(state, _step("overdue_3"), Channel.EMAIL, at, {})
    assert state.steps["overdue_3"] is StepStatus.SENT
    # The contact workflow never says "replaced" after a send, but if it did: still sent.
    assert t.confirm_replaced(state, "overdue_3", at) is state
    assert _kinds(state, "overdue_3") == ["message_sent"]


def test_a_workflow_started_before_this_records_it_skipped_at_once() -> None:
    state = _replaced(make_state(DUE).model_copy(update={"replacements_confirmed": False}))
    assert state.steps["overdue_3"] is StepStatus.SKIPPED
    assert _kinds(state, "overdue_3") == ["step_skipped"]
