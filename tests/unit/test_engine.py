from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from dunning_policies import transitions as t
from dunning_policies.engine import (
    Close,
    ExpireTask,
    Finished,
    FlagDisputeOverdue,
    GiveUpStep,
    HandOff,
    OpenNegotiationTask,
    SendMessage,
    SettlePromise,
    Wait,
    apply_action,
    next_action,
    stage_of,
)
from dunning_policies.language import Channel
from dunning_policies.policies.standard import POLICY as STANDARD
from dunning_policies.state import DisputeCode, Payment, Stage, StepStatus, TaskOutcome
from tests.factories import local, make_state

DUE = date(2026, 12, 1)  # a Tuesday


def pay(state, amount, at, payment_id="P-1"):
    return t.apply_payment(state, Payment(id=payment_id, amount=Decimal(amount), paid_at=at), at)


def test_a_fresh_invoice_waits_for_the_preventive_reminder_at_ten_local_time():
    decision = next_action(STANDARD, make_state(DUE), local(date(2026, 11, 2)))
    assert decision.action == SendMessage(STANDARD.step("preventive"), Channel.EMAIL)
    assert decision.at == local(date(2026, 11, 28))


def test_full_payment_closes_and_nothing_follows():
    now = local(date(2026, 11, 20))
    state = pay(make_state(DUE), 1_250_000, now)
    decision = next_action(STANDARD, state, now)
    assert decision.action == Close("paid") and decision.at == now
    state = t.close(state, "paid", now)
    assert next_action(STANDARD, state, now + timedelta(days=90)).action == Finished("paid")
    assert stage_of(state, now) is Stage.PAID


def test_overpayment_is_recorded_as_a_credit():
    now = local(date(2026, 11, 20))
    state = t.close(pay(make_state(DUE), 1_300_000, now), "paid", now)
    assert state.timeline[-1].kind == "credit_recorded"
    assert state.timeline[-1].detail == {"amount": "50000"}


def test_an_invoice_entering_eleven_days_late_starts_at_the_step_that_fits_now():
    now = local(DUE + timedelta(days=11), time(11, 30))
    decision = next_action(STANDARD, make_state(DUE), now)
    assert decision.action == SendMessage(
        STANDARD.step("overdue_10"), Channel.SMS, ("preventive", "due_day", "overdue_3")
    )
    assert decision.at == now


def test_a_step_falling_on_sunday_waits_for_monday_morning():
    now = local(DUE + timedelta(days=12), time(11, 30))  # Sunday 13 December
    decision = next_action(STANDARD, make_state(DUE), now)
    assert decision.at == local(DUE + timedelta(days=13), time(9, 0))


def test_a_late_step_is_moved_into_the_contact_window_not_sent_at_night():
    now = local(DUE + timedelta(days=4), time(3, 0))
    decision = next_action(STANDARD, make_state(DUE), now)
    assert isinstance(decision.action, SendMessage)
    assert decision.action.step.id == "overdue_3"
    assert decision.at == local(DUE + timedelta(days=4), time(9, 0))


def test_a_worker_down_for_days_runs_only_the_latest_missed_step():
    state = t.mark_sent(
        make_state(DUE), STANDARD.step("preventive"), Channel.EMAIL, local(date(2026, 11, 28)), {}
    )
    now = local(DUE + timedelta(days=11))
    decision = next_action(STANDARD, state, now)
    assert decision.action == SendMessage(
        STANDARD.step("overdue_10"), Channel.SMS, ("due_day", "overdue_3")
    )
    state = t.mark_skipped(state, decision.action.skipped, now)
    assert [e.kind for e in state.timeline[-2:]] == ["step_skipped", "step_skipped"]
    assert state.steps["due_day"] is StepStatus.SKIPPED


def test_a_rejected_channel_falls_back_to_the_next_and_then_gives_up():
    step = STANDARD.step("overdue_3")
    now = local(DUE + timedelta(days=3))
    state = make_state(DUE, channels=frozenset({Channel.WHATSAPP, Channel.SMS}))
    state = t.mark_channel_failed(
        state,
        step,
        Channel.WHATSAPP,
        now,
        code="twilio_63016",
        reason="outside window",
        address_invalid=False,
    )
    assert next_action(STANDARD, state, now).action.channel is Channel.SMS
    state = t.mark_channel_failed(
        state,
        step,
        Channel.SMS,
        now,
        code="twilio_21211",
        reason="invalid number",
        address_invalid=True,
    )
    action = next_action(STANDARD, state, now).action
    assert isinstance(action, GiveUpStep) and "sms: invalid number" in action.reason
    # The invalid number is not tried again by later steps; WhatsApp only failed for that step.
    state = t.mark_undeliverable(state, step, now, action.reason)
    later = next_action(STANDARD, state, local(DUE + timedelta(days=10)))
    assert later.action.channel is Channel.WHATSAPP


def test_a_partial_payment_keeps_the_schedule_and_lowers_the_amount():
    now = local(DUE + timedelta(days=5))
    state = pay(make_state(DUE), 250_000, now)
    assert state.amount_due == Decimal(1_000_000)
    decision = next_action(STANDARD, state, now)
    assert decision.action == SendMessage(
        STANDARD.step("overdue_3"), Channel.WHATSAPP, ("preventive", "due_day")
    )


def test_a_dispute_stops_contact_until_rejected_and_credits_when_upheld():
    now = local(DUE + timedelta(days=2))
    state = t.open_dispute(
        make_state(DUE), "not received", now, policy=STANDARD, code=DisputeCode.NOT_RECEIVED
    )
    assert state.dispute is not None
    assert (state.dispute.owner, state.dispute.deadline) == ("disputes", DUE + timedelta(days=12))
    # Nothing but the case's deadline, which is said once, for the dispute desk.
    deadline = next_action(STANDARD, state, now + timedelta(days=30))
    assert deadline.action == FlagDisputeOverdue(f"D-{state.invoice_number}-1")
    assert deadline.at == local(DUE + timedelta(days=12))
    flagged = t.flag_dispute_overdue(state, deadline.at)
    assert isinstance(next_action(STANDARD, flagged, now + timedelta(days=30)).action, Wait)
    assert stage_of(state, now) is Stage.DISPUTED
    rejected = t.resolve_dispute(state, STANDARD, False, now, "delivery confirmed")
    assert isinstance(next_action(STANDARD, rejected, now).action, SendMessage)
    upheld = t.resolve_dispute(state, STANDARD, True, now, "goods returned")
    assert next_action(STANDARD, upheld, now).action == Close("credited")
    assert [e.kind for e in upheld.timeline[-2:]] == ["dispute_resolved", "credit_note_applied"]


def _negotiating(now):
    state = make_state(DUE)
    state = t.mark_skipped(state, ("preventive", "due_day", "overdue_3", "overdue_10"), now)
    return t.open_task(state, STANDARD.step("collector_call"), now)


def test_negotiation_escalates_to_handoff_when_its_sla_lapses():
    opened = local(DUE + timedelta(days=15))
    state = _negotiating(opened)
    decision = next_action(STANDARD, state, opened)
    # The final notice (day 18) comes before the SLA (day 20).
    assert decision.action == SendMessage(STANDARD.step("final_notice"), Channel.EMAIL)
    state = t.mark_sent(state, STANDARD.step("final_notice"), Channel.EMAIL, decision.at, {})
    decision = next_action(STANDARD, state, decision.at)
    assert decision.action == ExpireTask(
        "T-F-1001-collector_call-1"
    ) and decision.at == opened + timedelta(days=5)
    state = t.expire_task(state, decision.at)
    handoff = next_action(STANDARD, state, decision.at)
    assert handoff.action == HandOff(STANDARD.step("agency"), "task SLA lapsed")
    state = t.hand_off(state, STANDARD.step("agency"), decision.at, "task SLA lapsed")
    assert isinstance(next_action(STANDARD, state, decision.at).action, Wait)
    assert stage_of(state, decision.at) is Stage.HANDOFF


def test_refused_hands_off_at_once():
    now = local(DUE + timedelta(days=15))
    state = _negotiating(now)
    task_id = state.negotiation.task.id
    state = t.complete_task(
        state, STANDARD, t.TaskCompletion(task_id=task_id, outcome=TaskOutcome.REFUSED), now
    )
    assert next_action(STANDARD, state, now).action == HandOff(
        STANDARD.step("agency"), "refused to pay"
    )


def test_no_contact_retries_next_day_until_attempts_run_out():
    now = local(DUE + timedelta(days=15))
    state = _negotiating(now)
    for attempt in range(1, 4):
        task_id = state.negotiation.task.id
        assert task_id.endswith(f"-{attempt}")
        state = t.complete_task(
            state, STANDARD, t.TaskCompletion(task_id=task_id, outcome=TaskOutcome.NO_CONTACT), now
        )
        decision = next_action(STANDARD, state, now)
        if attempt < 3:
            assert decision.action == OpenNegotiationTask(STANDARD.step("collector_call"))
            assert decision.at == local((now + timedelta(days=1)).date())
            now = decision.at
            state = t.open_task(state, STANDARD.step("collector_call"), now)
    assert decision.action == HandOff(STANDARD.step("agency"), "no contact after every attempt")


def test_a_promise_pauses_contact_until_its_date_and_a_broken_one_resumes_firmly():
    now = local(DUE + timedelta(days=15))
    state = _negotiating(now)
    promise = t.TaskCompletion(
        task_id=state.negotiation.task.id,
        outcome=TaskOutcome.PROMISE_TO_PAY,
        promised_date=DUE + timedelta(days=20),
        amount=Decimal(1_250_000),
    )
    state = t.complete_task(state, STANDARD, promise, now)
    decision = next_action(STANDARD, state, now)
    assert decision.action == SettlePromise(kept=False)
    assert decision.at == local(DUE + timedelta(days=21))  # promised date + 1 day of grace
    assert stage_of(state, now) is Stage.PROMISE
    state = t.settle_promise(state, STANDARD, False, decision.at)
    after = next_action(STANDARD, state, decision.at)
    assert isinstance(after.action, SendMessage) and after.action.step.template == "promise_broken"
    assert after.action.step.id == "promise_broken-1"


def test_a_kept_promise_closes_the_invoice_when_paid_in_full():
    now = local(DUE + timedelta(days=15))
    state = _negotiating(now)
    state = t.complete_task(
        state,
        STANDARD,
        t.TaskCompletion(
            task_id=state.negotiation.task.id,
            outcome=TaskOutcome.PROMISE_TO_PAY,
            promised_date=DUE + timedelta(days=20),
        ),
        now,
    )
    paid_at = now + timedelta(days=2)
    state = pay(state, 1_250_000, paid_at)
    # Recorded as kept first (the kept rate counts it), then closed.
    assert next_action(STANDARD, state, paid_at).action == SettlePromise(kept=True)
    state = apply_action(STANDARD, state, SettlePromise(kept=True), paid_at)
    assert state.promises_kept == 1
    assert next_action(STANDARD, state, paid_at).action == Close("paid")


@pytest.mark.parametrize(
    ("completion", "message"),
    [
        (dict(task_id="T-nope", outcome=TaskOutcome.REFUSED), "unknown task"),
        (dict(outcome=TaskOutcome.PROMISE_TO_PAY), "needs promised_date"),
        (dict(outcome=TaskOutcome.PROMISE_TO_PAY, promised_date=DUE), "must be between"),
        (
            dict(
                outcome=TaskOutcome.PROMISE_TO_PAY,
                promised_date=DUE + timedelta(days=20),
                amount=Decimal(9_999_999),
            ),
            "more than",
        ),
        (dict(outcome=TaskOutcome.NO_CONTACT, promised_date=DUE + timedelta(days=20)), "only for"),
    ],
)
def test_invalid_completions_are_refused_with_a_reason(completion, message):
    now = local(DUE + timedelta(days=15))
    state = _negotiating(now)
    completion = {"task_id": state.negotiation.task.id, **completion}
    with pytest.raises(t.InvalidCompletion, match=message):
        t.check_completion(STANDARD, state, t.TaskCompletion(**completion), now)


def test_stages_follow_the_calendar():
    state = make_state(DUE)
    assert stage_of(state, local(DUE - timedelta(days=1))) is Stage.CURRENT
    assert stage_of(state, local(DUE, time(23, 0))) is Stage.DUE
    assert stage_of(state, local(DUE + timedelta(days=1))) is Stage.OVERDUE


def test_paused_invoices_wait():
    now = local(DUE)
    state = t.pause(make_state(DUE), now, "customer called")
    assert isinstance(next_action(STANDARD, state, now).action, Wait)
    assert isinstance(next_action(STANDARD, t.resume(state, now), now).action, SendMessage)


def test_paying_during_negotiation_closes_the_open_task():
    now = local(DUE + timedelta(days=16))
    state = pay(_negotiating(local(DUE + timedelta(days=15))), 1_250_000, now)
    state = t.close(state, "paid", now)
    assert state.negotiation.task is None
    assert [e.kind for e in state.timeline[-3:]] == ["payment_received", "task_closed", "closed"]
    assert state.timeline[-2].detail == {
        "task_id": "T-F-1001-collector_call-1",
        "reason": "invoice paid",
    }


def test_a_late_invoice_still_gets_its_collector_and_then_the_agency():
    from dunning_policies.policies.high_risk import POLICY as HIGH_RISK

    now = local(DUE + timedelta(days=20))
    first = next_action(HIGH_RISK, make_state(DUE), now)
    assert first.action == OpenNegotiationTask(
        HIGH_RISK.step("collector_call"),
        ("preventive_7", "preventive_2", "due_day", "overdue_1", "overdue_4"),
    )
    state = t.open_task(
        t.mark_skipped(make_state(DUE), first.action.skipped, now), first.action.step, now
    )
    second = next_action(HIGH_RISK, state, now)
    assert second.action == SendMessage(HIGH_RISK.step("final_notice"), Channel.EMAIL)
    state = t.mark_sent(state, HIGH_RISK.step("final_notice"), Channel.EMAIL, now, {})
    third = next_action(HIGH_RISK, state, now)
    assert third.action == ExpireTask("T-F-1001-collector_call-1")
    assert third.at == now + timedelta(days=3)
