"""A collector's (or the portal's) actions on a case, as pure transitions and the validators
that refuse them: a logged call, an escalation to the agency, a snoozed task, a dispute, an
"I already paid"."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

import pytest

from dunning_policies import transitions as t
from dunning_policies.engine import (
    HandOff,
    SettlePromise,
    Wait,
    WithdrawContact,
    apply_action,
    next_action,
    stage_of,
)
from dunning_policies.language import Channel, Handoff, Negotiate, Policy, Remind
from dunning_policies.policies.standard import POLICY as STANDARD
from dunning_policies.state import (
    CallResult,
    DisputeCode,
    Instalment,
    InvoiceState,
    Payment,
    Stage,
    StepStatus,
    TaskOutcome,
)
from tests.factories import local, make_state

S = TypeVar("S", Remind, Negotiate, Handoff)
DUE = date(2026, 12, 1)  # a Tuesday
AT_THE_CALL = local(DUE + timedelta(days=15))
TASK = "T-F-1001-collector_call-1"


def step_of(policy: Policy, step_id: str, kind: type[S]) -> S:
    step = policy.step(step_id)
    assert isinstance(step, kind)
    return step


def negotiating() -> InvoiceState:
    state = make_state(DUE)
    state = t.mark_skipped(state, ("preventive", "due_day", "overdue_3", "overdue_10"), AT_THE_CALL)
    return t.open_task(state, step_of(STANDARD, "collector_call", Negotiate), AT_THE_CALL)


def pay(state, amount, at):
    return t.apply_payment(state, Payment(id="P-1", amount=Decimal(amount), paid_at=at), at)


def refusal(check, *args) -> str:
    with pytest.raises(t.InvalidCaseAction) as refused:
        check(*args)
    return str(refused.value)


# --- a logged call ---


def test_a_call_is_a_bitacora_line_with_who_called_and_what_came_of_it():
    state = t.log_call(
        negotiating(), CallResult.LEFT_MESSAGE, AT_THE_CALL, collector="ana", note="buzón de voz"
    )
    event = state.timeline[-1]
    assert (event.kind, event.status, event.at) == ("call_logged", "left_message", AT_THE_CALL)
    assert event.detail == {"outcome": "left_message", "collector": "ana", "note": "buzón de voz"}
    # Nothing else moves: the task stays open.
    assert state.negotiation.task is not None and state.unusable_channels == {}


@pytest.mark.parametrize("result", list(CallResult))
def test_only_a_call_that_reached_the_debtor_is_a_conversation(result: CallResult):
    called = AT_THE_CALL + timedelta(hours=1)
    state = t.log_call(negotiating(), result, called, collector="ana")
    talked = result in (CallResult.REACHED, CallResult.REFUSED)
    assert t.last_conversation_at(state) == (called if talked else None)


def test_a_conversation_reaches_the_contact_rules_by_the_request_and_a_queued_one_is_asked_again():
    # The same way a task's answer does: the contact workflow hears of it with the invoice's
    # next request, and a message queued before the call is withdrawn to be asked for again.
    state = make_state(DUE)
    queued_at = local(DUE + timedelta(days=2))
    state = t.contact_requested(state, step_of(STANDARD, "overdue_3", Remind), queued_at)
    called = queued_at + timedelta(hours=2)
    state = t.log_call(state, CallResult.REACHED, called, collector="ana")

    decision = next_action(STANDARD, state, called)
    assert decision.action == WithdrawContact("a conversation since", to_ask_again=True)
    again = apply_action(STANDARD, state, decision.action, called)
    assert again.contact_in_flight is None
    # What the workflow puts in the next ContactRequest's ``last_conversation_at``.
    assert t.last_conversation_at(again) == called


def test_a_wrong_number_makes_the_phone_channels_unusable():
    state = t.log_call(negotiating(), CallResult.WRONG_NUMBER, AT_THE_CALL, collector="ana")
    assert [e.kind for e in state.timeline[-3:]] == [
        "call_logged",
        "address_invalid",
        "address_invalid",
    ]
    assert set(state.unusable_channels) == {Channel.VOICE, Channel.SMS}
    assert state.unusable_channels[Channel.SMS] == "wrong number (call by ana)"
    # Logged again, the channels are not marked twice.
    again = t.log_call(state, CallResult.WRONG_NUMBER, AT_THE_CALL, collector="luis")
    assert again.timeline[-1].kind == "call_logged"


def test_a_call_on_a_closed_invoice_is_refused():
    closed = t.close(pay(negotiating(), 1_250_000, AT_THE_CALL), "paid", AT_THE_CALL)
    assert refusal(t.check_call, closed) == "invoice F-1001 is paid: cannot log a call"
    t.check_call(negotiating())


# --- escalation to the agency ---


def test_escalation_hands_off_now_closing_the_task_and_skipping_the_steps_left():
    later = AT_THE_CALL + timedelta(hours=2)
    state = t.escalate(negotiating(), STANDARD, "no quiere pagar", later, collector="ana")

    closed, handed = state.timeline[-2:]
    assert (closed.kind, closed.status, closed.detail["task_id"]) == (
        "task_closed",
        "escalated",
        TASK,
    )
    assert (handed.kind, handed.step_id) == ("handed_off", "agency")
    assert handed.detail == {
        "agency": "Agencia de Cobranza Extrajudicial",
        "reason": "no quiere pagar",
        "escalated_by": "ana",
        "skipped_steps": "final_notice",
    }
    assert state.handed_off and state.steps["agency"] is StepStatus.HANDED_OFF
    assert state.negotiation.task is None
    assert stage_of(state, later) is Stage.HANDOFF
    # The final notice never goes: the invoice waits for the agency (or a payment).
    assert next_action(STANDARD, state, later).action == Wait("with the collection agency")


def test_the_policys_own_handoff_reads_as_before():
    state = t.hand_off(
        negotiating(), step_of(STANDARD, "agency", Handoff), AT_THE_CALL, "task SLA lapsed"
    )
    assert state.timeline[-1].detail == {
        "agency": "Agencia de Cobranza Extrajudicial",
        "reason": "task SLA lapsed",
    }


def test_escalation_refusals_say_why():
    state = negotiating()
    t.check_escalation(STANDARD, state)

    closed = t.close(state, "cancelled", AT_THE_CALL)
    assert refusal(t.check_escalation, STANDARD, closed) == (
        "invoice F-1001 is cancelled: cannot hand it off"
    )
    handed = t.escalate(state, STANDARD, "x", AT_THE_CALL, collector="ana")
    assert "already with the collection agency" in refusal(t.check_escalation, STANDARD, handed)
    disputed = t.open_dispute(state, "no llegó", AT_THE_CALL, policy=STANDARD)
    assert "a disputed invoice may not be handed off" in refusal(
        t.check_escalation, STANDARD, disputed
    )
    no_agency = STANDARD.model_copy(update={"steps": STANDARD.steps[:-1]})
    assert "has no handoff step" in refusal(t.check_escalation, no_agency, state)
    promised = t.make_promise(state, DUE + timedelta(days=20), None, AT_THE_CALL, source="portal")
    assert "waits for a promise until" in refusal(t.check_escalation, STANDARD, promised)


def test_escalation_refused_while_a_plan_runs():
    plan = (
        Instalment(number=1, due_on=DUE + timedelta(days=30), amount=Decimal(625_000)),
        Instalment(number=2, due_on=DUE + timedelta(days=60), amount=Decimal(625_000)),
    )
    state = t.agree_plan(negotiating(), STANDARD, plan, AT_THE_CALL, source="collector")
    assert "payment plan plan1" in refusal(t.check_escalation, STANDARD, state)


# --- snoozing a task ---


def test_a_snooze_is_a_timeline_event_and_the_task_stays_open():
    until = AT_THE_CALL + timedelta(days=2)
    state = t.snooze_task(negotiating(), TASK, until, AT_THE_CALL, collector="ana", note="viaje")
    event = state.timeline[-1]
    assert (event.kind, event.status, event.step_id) == (
        "task_snoozed",
        "snoozed",
        "collector_call",
    )
    assert event.detail == {
        "task_id": TASK,
        "until": until.isoformat(),
        "collector": "ana",
        "note": "viaje",
    }
    assert state.negotiation.task is not None


def test_snooze_refusals_say_why():
    state, now = negotiating(), AT_THE_CALL
    task = state.negotiation.task
    assert task is not None
    sla = task.sla_due_at  # five days after it opened
    t.check_snooze(state, TASK, sla, now)

    assert "'T-other' is not an open task" in refusal(
        t.check_snooze, state, "T-other", now + timedelta(days=1), now
    )
    done = t.complete_task(
        state, STANDARD, t.TaskCompletion(task_id=TASK, outcome=TaskOutcome.REFUSED), now
    )
    assert "it has no open task" in refusal(t.check_snooze, done, TASK, now + timedelta(1), now)
    assert refusal(t.check_snooze, state, TASK, now - timedelta(minutes=1), now).startswith(
        "until: "
    )
    assert "in the past" in refusal(t.check_snooze, state, TASK, now, now)
    beyond_sla = refusal(t.check_snooze, state, TASK, sla + timedelta(minutes=1), now)
    assert beyond_sla == (
        "until: the task's SLA ends at 2026-12-21 10:00 (America/Santiago); "
        "snooze it no later than that"
    )
    assert "give a time with its time zone" in refusal(
        t.check_snooze, state, TASK, (now + timedelta(days=1)).replace(tzinfo=None), now
    )


def test_a_snooze_is_at_most_fourteen_days_ahead():
    long_sla = STANDARD.model_copy(
        update={
            "steps": tuple(
                s.model_copy(update={"sla_days": 30}) if s.id == "collector_call" else s
                for s in STANDARD.steps
            )
        }
    )
    state = t.open_task(
        make_state(DUE), step_of(long_sla, "collector_call", Negotiate), AT_THE_CALL
    )
    t.check_snooze(state, TASK, AT_THE_CALL + timedelta(days=14), AT_THE_CALL)
    message = refusal(
        t.check_snooze, state, TASK, AT_THE_CALL + timedelta(days=14, seconds=1), AT_THE_CALL
    )
    assert message.startswith("until: at most 14 days ahead")


# --- a dispute through the update ---


def test_a_second_dispute_is_refused_with_the_open_case():
    state = negotiating()
    t.check_dispute(state)
    disputed = t.open_dispute(
        state, "monto distinto", AT_THE_CALL, policy=STANDARD, code=DisputeCode.WRONG_AMOUNT,
        source="portal",
    )  # fmt: skip
    assert disputed.timeline[-1].detail["source"] == "portal"
    assert refusal(t.check_dispute, disputed) == (
        "invoice F-1001 is already disputed (case D-F-1001-1): monto distinto"
    )
    closed = t.close(state, "written_off", AT_THE_CALL)
    assert refusal(t.check_dispute, closed) == "invoice F-1001 is written_off: cannot dispute it"


def test_a_dispute_without_a_source_reads_as_before():
    state = t.open_dispute(negotiating(), "no llegó", AT_THE_CALL, policy=STANDARD)
    assert "source" not in state.timeline[-1].detail


# --- "I already paid" ---


def claim(state, at=AT_THE_CALL, amount=None):
    return t.report_payment_claim(
        state,
        STANDARD,
        at,
        reference="TRF-991",
        paid_on=DUE + timedelta(days=14),
        amount=amount,
        source="portal",
        note="transferencia",
    )


def test_a_payment_claim_waits_for_the_money_like_a_task_answered_paid():
    state = claim(negotiating())
    closed, claimed, made = state.timeline[-3:]
    assert (closed.kind, closed.status) == ("task_closed", "payment_claimed")
    assert (claimed.kind, claimed.status) == ("payment_claimed", "portal")
    assert claimed.detail == {
        "reference": "TRF-991",
        "paid_on": (DUE + timedelta(days=14)).isoformat(),
        "source": "portal",
        "note": "transferencia",
    }
    assert (made.kind, made.status) == ("promise_made", "payment_claim")

    answered = t.complete_task(
        negotiating(),
        STANDARD,
        t.TaskCompletion(task_id=TASK, outcome=TaskOutcome.PAID),
        AT_THE_CALL,
    )
    assert state.promise is not None and answered.promise is not None
    assert state.promise.promised_date == answered.promise.promised_date
    assert state.promise.promised_date == DUE + timedelta(days=15 + STANDARD.payment_claim_days)
    assert (state.promise.amount, state.promise.source) == (Decimal(1_250_000), "portal")
    assert stage_of(state, AT_THE_CALL) is Stage.PROMISE
    decision = next_action(STANDARD, state, AT_THE_CALL)
    assert decision.action == SettlePromise(kept=False)
    assert decision.at == t.promise_deadline(state, STANDARD)

    paid = pay(state, 1_250_000, AT_THE_CALL + timedelta(days=1))
    assert next_action(STANDARD, paid, AT_THE_CALL).action == SettlePromise(kept=True)


def test_a_claim_for_part_of_the_balance_waits_for_that_part():
    state = claim(make_state(DUE), amount=Decimal(250_000))
    assert state.promise is not None and state.promise.amount == Decimal(250_000)
    assert [e.kind for e in state.timeline] == ["payment_claimed", "promise_made"]
    assert state.timeline[0].detail["amount"] == "250000"
    assert state.timeline[1].detail["amount"] == "250000"


def test_a_broken_claim_reopens_negotiation_with_a_new_attempt():
    state = claim(negotiating())
    deadline = t.promise_deadline(state, STANDARD)
    broken = apply_action(STANDARD, state, SettlePromise(kept=False), deadline)
    assert broken.timeline[-1].kind == "promise_broken"
    # The task closed with the claim; negotiation picks up with a new attempt.
    assert broken.negotiation.retry_at == deadline


def test_payment_claim_refusals_say_why():
    state, now = negotiating(), AT_THE_CALL
    today = DUE + timedelta(days=15)
    t.check_payment_claim(state, today, None, now)

    assert refusal(t.check_payment_claim, state, today + timedelta(days=1), None, now) == (
        f"paid_on: {today + timedelta(days=1)} is in the future (today is {today})"
    )
    assert refusal(t.check_payment_claim, state, today, Decimal(2_000_000), now).startswith(
        "amount: 2000000 must be more than 0 and at most the 1250000 CLP due"
    )
    closed = t.close(state, "cancelled", now)
    assert refusal(t.check_payment_claim, closed, today, None, now) == (
        "invoice F-1001 is cancelled: cannot report a payment"
    )
    disputed = t.open_dispute(state, "no llegó", now, policy=STANDARD)
    assert "is disputed" in refusal(t.check_payment_claim, disputed, today, None, now)
    claimed = claim(state)
    assert "already waits for a payment reported on" in refusal(
        t.check_payment_claim, claimed, today, None, now
    )
    # A promise to pay may turn into "it's paid": the claim replaces it.
    promised = t.make_promise(state, today + timedelta(days=5), None, now, source="portal")
    t.check_payment_claim(promised, today, None, now)


def test_a_handed_off_invoice_stays_with_the_agency_after_the_policy_would_hand_it_off():
    # The engine would hand off a refused negotiation; after an escalation it does not again.
    refused = t.complete_task(
        negotiating(),
        STANDARD,
        t.TaskCompletion(task_id=TASK, outcome=TaskOutcome.REFUSED),
        AT_THE_CALL,
    )
    assert isinstance(next_action(STANDARD, refused, AT_THE_CALL).action, HandOff)
    escalated = t.escalate(refused, STANDARD, "rehúsa", AT_THE_CALL, collector="ana")
    assert next_action(STANDARD, escalated, AT_THE_CALL).action == Wait(
        "with the collection agency"
    )
    assert [e.kind for e in escalated.timeline].count("handed_off") == 1
