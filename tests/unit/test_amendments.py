"""Credit notes, corrections and opt-outs: the engine replans from the changed invoice."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from dunning_policies import amendments as a
from dunning_policies import transitions as t
from dunning_policies.engine import Close, Finished, SendMessage, next_action, stage_of
from dunning_policies.language import Channel
from dunning_policies.policies.standard import POLICY as STANDARD
from dunning_policies.state import CreditNote, Payment, Stage
from tests.factories import local, make_state

DUE = date(2026, 12, 1)  # a Tuesday


def credit(amount: int, note_id: str = "NC-1", at=None) -> CreditNote:
    return CreditNote(id=note_id, amount=Decimal(amount), issued_at=at or local(date(2026, 11, 5)))


def test_a_credit_note_lowers_the_amount_the_next_message_asks_for():
    now = local(date(2026, 11, 5))
    state = a.apply_credit_note(make_state(DUE), credit(250_000), now)
    assert state.amount_due == Decimal(1_000_000)
    assert state.timeline[-1].kind == "credit_note_applied"
    assert state.timeline[-1].detail["amount"] == "250000"
    assert state.timeline[-1].amount_due == Decimal(1_000_000)
    # the schedule is unchanged
    assert next_action(STANDARD, state, now).action == SendMessage(
        STANDARD.step("preventive"), Channel.EMAIL
    )


def test_the_same_credit_note_twice_counts_once():
    now = local(date(2026, 11, 5))
    once = a.apply_credit_note(make_state(DUE), credit(250_000), now)
    assert a.apply_credit_note(once, credit(250_000), now) is once


def test_a_fully_credited_invoice_closes_as_credited_not_paid():
    now = local(date(2026, 11, 5))
    state = a.apply_credit_note(make_state(DUE), credit(1_250_000), now)
    decision = next_action(STANDARD, state, now)
    assert decision.action == Close("credited") and decision.at == now
    state = t.close(state, "credited", now)
    assert stage_of(state, now) is Stage.CREDITED
    assert next_action(STANDARD, state, now + timedelta(days=60)).action == Finished("credited")


def test_a_credit_note_after_a_partial_payment_that_covers_the_rest_closes_as_paid():
    now = local(date(2026, 11, 5))
    state = t.apply_payment(
        make_state(DUE), Payment(id="P-1", amount=Decimal(1_000_000), paid_at=now), now
    )
    state = a.apply_credit_note(state, credit(250_000), now)
    assert next_action(STANDARD, state, now).action == Close("paid")


def test_a_later_due_date_moves_every_step_not_yet_taken():
    now = local(date(2026, 11, 5))
    later = date(2026, 12, 15)  # a Tuesday
    state = a.amend_invoice(make_state(DUE), now, due_on=later, reason="plazo extendido")
    assert state.due_on == later
    assert state.timeline[-1].kind == "invoice_amended"
    assert state.timeline[-1].detail == {
        "reason": "plazo extendido",
        "due_on_before": "2026-12-01",
        "due_on": "2026-12-15",
    }
    decision = next_action(STANDARD, state, now)
    assert decision.at == local(date(2026, 12, 12))  # three days before the new due date


def test_an_amount_correction_changes_what_is_owed():
    now = local(date(2026, 11, 5))
    state = a.amend_invoice(make_state(DUE), now, original_amount=Decimal(1_100_000))
    assert state.amount_due == Decimal(1_100_000)
    assert state.timeline[-1].detail["amount_before"] == "1250000"


def test_an_amendment_that_changes_nothing_adds_no_event():
    state = make_state(DUE)
    assert a.amend_invoice(state, local(date(2026, 11, 5)), due_on=DUE) is state


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"due_on": date(2026, 10, 1)}, "before the issue date"),
        ({"original_amount": Decimal(0)}, "must be positive"),
    ],
)
def test_impossible_amendments_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        a.amend_invoice(make_state(DUE), local(date(2026, 11, 5)), **changes)


def test_an_opted_out_channel_is_never_used_and_opting_back_in_restores_it():
    now = local(DUE + timedelta(days=3))
    state = make_state(DUE, channels=frozenset({Channel.WHATSAPP, Channel.SMS}))
    state = a.opt_out(state, Channel.WHATSAPP, now, "twilio inbound: BAJA")
    assert state.timeline[-1].kind == "channel_opted_out"
    assert next_action(STANDARD, state, now).action.channel is Channel.SMS
    assert a.opt_out(state, Channel.WHATSAPP, now, "again") is state
    state = a.opt_in(state, Channel.WHATSAPP, now, "twilio inbound: ALTA")
    assert state.timeline[-1].kind == "channel_opted_in"
    assert next_action(STANDARD, state, now).action.channel is Channel.WHATSAPP


def test_a_hard_bounce_makes_the_engine_fall_back_to_the_next_channel():
    now = local(DUE)
    state = make_state(DUE, channels=frozenset({Channel.EMAIL, Channel.SMS}))
    assert next_action(STANDARD, state, now).action.channel is Channel.EMAIL
    state = a.mark_address_invalid(state, Channel.EMAIL, now, "sendgrid: hard bounce")
    assert state.timeline[-1].kind == "address_invalid"
    assert next_action(STANDARD, state, now).action.channel is Channel.SMS
    # opting in does not revive an address that bounced
    assert a.opt_in(state, Channel.EMAIL, now, "web") is state
