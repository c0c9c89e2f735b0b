"""The customer contact engine: consolidation, caps across invoices, gaps, call pauses, opt-outs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dunning_policies import contact as c
from dunning_policies.contact import (
    ContactRecord,
    ContactRequest,
    CustomerContactState,
    GiveUpContact,
    SendContact,
)
from dunning_policies.jurisdictions import (
    CHILE_CONSUMER,
    UNITED_STATES_CONSUMER,
    DebtType,
    rules_for_customer,
)
from dunning_policies.language import Channel, Tone

SANTIAGO = ZoneInfo("America/Santiago")
NEW_YORK = ZoneInfo("America/New_York")
EMAIL, SMS, WHATSAPP, VOICE = Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.VOICE


def at(day: date, hour: int = 10, zone: ZoneInfo = SANTIAGO) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def request(
    number: str,
    not_before: datetime,
    *,
    step: str = "overdue_3",
    channels: tuple[Channel, ...] = (WHATSAPP, SMS, EMAIL),
    tone: Tone = Tone.NEUTRAL,
    amount: str = "100000",
) -> ContactRequest:
    return ContactRequest(
        workflow_id=f"invoice-{number}",
        invoice_number=number,
        step_id=step,
        channels=channels,
        template="overdue",
        tone=tone,
        amount_due=Decimal(amount),
        original_amount=Decimal(amount),
        currency="CLP",
        due_on=date(2026, 11, 2),
        not_before=not_before,
    )


def chilean(around: date = date(2026, 11, 1)) -> CustomerContactState:
    return CustomerContactState(
        customer_id="C-1",
        timezone="America/Santiago",
        rules=rules_for_customer("CL", DebtType.CONSUMER, None, around),
    )


def with_requests(state: CustomerContactState, *requests: ContactRequest) -> CustomerContactState:
    for r in requests:
        state = c.request_contact(state, r)
    return state


def sent(state: CustomerContactState, *moments: datetime, channel: Channel = EMAIL):
    history = tuple(
        ContactRecord(at=m, channel=channel, invoices=("F-0",), message_key=f"k{i}")
        for i, m in enumerate(moments)
    )
    return state.model_copy(update={"history": history})


# Tuesday 10 November 2026 is an ordinary working day in Chile.
TUESDAY = date(2026, 11, 10)


def test_requests_due_together_become_one_message_led_by_the_firmest_tone() -> None:
    moment = at(TUESDAY)
    state = with_requests(
        chilean(),
        request("F-2", moment, tone=Tone.NEUTRAL),
        request("F-1", moment, tone=Tone.FIRM, channels=(SMS, EMAIL)),
        request("F-3", moment - timedelta(hours=1), tone=Tone.FRIENDLY),
    )
    decision = c.next_contact(state, moment)
    assert isinstance(decision.action, SendContact)
    assert decision.at == moment
    assert [r.invoice_number for r in decision.action.requests] == ["F-1", "F-2", "F-3"]
    assert decision.action.lead.invoice_number == "F-1"
    assert decision.action.channel is SMS  # the firmest request's first channel


def test_a_request_due_later_waits_for_its_own_moment() -> None:
    state = with_requests(
        chilean(), request("F-1", at(TUESDAY)), request("F-2", at(TUESDAY + timedelta(days=1)))
    )
    decision = c.next_contact(state, at(TUESDAY))
    assert isinstance(decision.action, SendContact)
    assert [r.invoice_number for r in decision.action.requests] == ["F-1"]


def test_chile_allows_two_written_contacts_a_week_across_invoices() -> None:
    # Two messages already went out, on Monday 2 and Thursday 5 November at 10:00.
    state = sent(chilean(), at(date(2026, 11, 2)), at(date(2026, 11, 5)))
    state = with_requests(state, request("F-9", at(TUESDAY - timedelta(days=2))))  # Sunday 8th
    decision = c.next_contact(state, at(date(2026, 11, 7), 12))
    assert isinstance(decision.action, SendContact)
    # Sunday is no contact day; Monday 9th 10:00 is exactly 7 days after the 2nd, so the
    # first of the two contacts no longer counts.
    assert decision.at == at(date(2026, 11, 9), 10)
    assert "Sunday is not a contact day" in decision.action.moved_by[0]


def test_a_third_contact_within_seven_days_waits_and_says_which_rule() -> None:
    state = sent(chilean(), at(date(2026, 11, 9), 9), at(date(2026, 11, 11), 9))
    state = with_requests(state, request("F-1", at(date(2026, 11, 13))))
    decision = c.next_contact(state, at(date(2026, 11, 13)))
    assert isinstance(decision.action, SendContact)
    assert decision.at == at(date(2026, 11, 16), 9)
    assert any("at most 2 other contacts a week" in m for m in decision.action.moved_by)


def test_two_days_between_written_contacts() -> None:
    state = sent(chilean(), at(TUESDAY, 15))
    state = with_requests(state, request("F-1", at(TUESDAY + timedelta(days=1))))
    decision = c.next_contact(state, at(TUESDAY + timedelta(days=1)))
    assert decision.at == at(TUESDAY + timedelta(days=2), 15)
    assert isinstance(decision.action, SendContact)
    assert any("at least 2 days between contacts" in m for m in decision.action.moved_by)


def test_a_chilean_holiday_is_never_a_contact_day() -> None:
    # Friday 18 and Saturday 19 September are Fiestas Patrias; Sunday is closed anyway.
    state = with_requests(chilean(date(2026, 9, 1)), request("F-1", at(date(2026, 9, 18))))
    decision = c.next_contact(state, at(date(2026, 9, 18)))
    assert decision.at == at(date(2026, 9, 21), 8)
    assert isinstance(decision.action, SendContact)
    assert "public holiday" in decision.action.moved_by[0]


def test_an_opted_out_channel_is_closed_for_every_invoice() -> None:
    state = with_requests(chilean(), request("F-1", at(TUESDAY)), request("F-2", at(TUESDAY)))
    state = c.close_channel(state, WHATSAPP, "opted out (STOP)")
    decision = c.next_contact(state, at(TUESDAY))
    assert isinstance(decision.action, SendContact)
    assert decision.action.channel is SMS
    state = c.close_channel(c.close_channel(state, SMS, "x"), EMAIL, "y")
    decision = c.next_contact(state, at(TUESDAY))
    assert isinstance(decision.action, GiveUpContact)
    assert "whatsapp: opted out (STOP)" in decision.action.reason


def test_a_rejected_channel_tries_the_next_one_for_the_same_message() -> None:
    state = with_requests(chilean(), request("F-1", at(TUESDAY)))
    decision = c.next_contact(state, at(TUESDAY))
    assert isinstance(decision.action, SendContact)
    state = c.record_rejected(state, decision.action, address_invalid=False, reason="busy")
    again = c.next_contact(state, at(TUESDAY))
    assert isinstance(again.action, SendContact)
    assert again.action.channel is SMS
    assert WHATSAPP not in state.closed_channels


def test_a_newer_step_of_the_same_invoice_replaces_its_queued_one() -> None:
    state = with_requests(
        chilean(),
        request("F-1", at(TUESDAY), step="overdue_3"),
        request("F-1", at(TUESDAY), step="overdue_10"),
    )
    assert [r.step_id for r in state.pending] == ["overdue_10"]
    assert c.withdraw(state, "invoice-F-1").pending == ()


def _us(history: tuple[ContactRecord, ...] = ()) -> CustomerContactState:
    return CustomerContactState(
        customer_id="C-US",
        timezone="America/New_York",
        rules=UNITED_STATES_CONSUMER,
        history=history,
    )


def _calls(number: str, days: range) -> tuple[ContactRecord, ...]:
    start = date(2026, 11, 2)
    return tuple(
        ContactRecord(
            at=at(start + timedelta(days=d), 11, NEW_YORK),
            channel=VOICE,
            invoices=(number,),
            message_key=f"{number}-{d}",
        )
        for d in days
    )


def test_regulation_f_seven_calls_in_seven_days_per_debt() -> None:
    state = _us(_calls("A", range(7)))  # one call a day, 2–8 November
    state = with_requests(
        state, request("A", at(date(2026, 11, 9), 11, NEW_YORK), channels=(VOICE,))
    )
    decision = c.next_contact(state, at(date(2026, 11, 9), 11, NEW_YORK))
    # The eighth call waits until the first one is seven days old.
    assert decision.at == at(date(2026, 11, 9), 11, NEW_YORK)
    state = _us(_calls("A", range(7)))
    state = with_requests(
        state, request("A", at(date(2026, 11, 8), 12, NEW_YORK), channels=(VOICE,))
    )
    decision = c.next_contact(state, at(date(2026, 11, 8), 12, NEW_YORK))
    assert decision.at == at(date(2026, 11, 9), 11, NEW_YORK)
    assert isinstance(decision.action, SendContact)
    assert any("7 calls in 7 days per debt" in m for m in decision.action.moved_by)


def test_another_debts_calls_do_not_count_against_this_one() -> None:
    state = with_requests(
        _us(_calls("A", range(7))),
        request("B", at(date(2026, 11, 8), 12, NEW_YORK), channels=(VOICE,)),
    )
    decision = c.next_contact(state, at(date(2026, 11, 8), 12, NEW_YORK))
    assert decision.at == at(date(2026, 11, 8), 12, NEW_YORK)


def test_no_call_within_seven_days_after_a_conversation() -> None:
    talked = at(date(2026, 11, 3), 15, NEW_YORK)
    state = c.record_conversation(_us(), "A", talked)
    state = with_requests(
        state, request("A", at(date(2026, 11, 5), 11, NEW_YORK), channels=(VOICE, EMAIL))
    )
    decision = c.next_contact(state, at(date(2026, 11, 5), 11, NEW_YORK))
    # The call is paused; the email (not a call) goes at once.
    assert isinstance(decision.action, SendContact)
    assert decision.action.channel is EMAIL
    only_calls = with_requests(
        c.record_conversation(_us(), "A", talked),
        request("A", at(date(2026, 11, 5), 11, NEW_YORK), channels=(VOICE,)),
    )
    decision = c.next_contact(only_calls, at(date(2026, 11, 5), 11, NEW_YORK))
    assert decision.at == talked + timedelta(days=7)


def test_without_rules_a_request_goes_when_asked() -> None:
    state = with_requests(
        CustomerContactState(customer_id="C", timezone="America/Santiago", rules=None),
        request("F-1", at(TUESDAY, 3)),
    )
    assert c.next_contact(state, at(TUESDAY, 3)).at == at(TUESDAY, 3)


def test_history_older_than_every_rule_is_forgotten() -> None:
    state = sent(chilean(), at(date(2026, 11, 2)))
    assert c.history_horizon(state) == at(date(2026, 11, 9))
    assert c.forget_expired(state, at(date(2026, 11, 10))).history == ()
    assert CHILE_CONSUMER.min_gap_hours == 48
