"""The law's contact rules in the invoice engine: each pack's hours and days at exact instants,
holidays, the reason a contact moved carried to the timeline, and what stays as it was."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from dunning_policies.calendar import next_contact_moment
from dunning_policies.engine import (
    OpenNegotiationTask,
    SendMessage,
    next_action,
)
from dunning_policies.jurisdictions import (
    BUSINESS_DEFAULT,
    CHILE_CONSUMER,
    MEXICO,
    DebtType,
    debt_type_of,
    effective_rules,
    infer_debt_type,
    rules_for_customer,
)
from dunning_policies.language import (
    Channel,
    ContactWindow,
    Negotiate,
    Policy,
    Remind,
    Tone,
)
from dunning_policies.state import InvoiceState
from tests.factories import make_state
from tests.simulation import simulate

ALL_WEEK = frozenset(range(7))
CHILE_LAW = "Ley 19.496 art. 37 (Ley 21.320)"


def one_reminder(
    window: ContactWindow = ContactWindow(), send_at: time = time(10, 0), offset_days: int = 0
) -> Policy:
    return Policy(
        name="one-reminder",
        version=1,
        description="a single email on the due date",
        send_at=send_at,
        window=window,
        steps=(
            Remind(
                id="due_day",
                offset_days=offset_days,
                channels=(Channel.EMAIL,),
                template="due_today",
                tone=Tone.NEUTRAL,
            ),
        ),
    )


WIDE_OPEN = one_reminder(ContactWindow(start=time(0, 0), end=time(23, 59), weekdays=ALL_WEEK))


def state_in(
    due_on: date,
    country: str = "CL",
    timezone: str = "America/Santiago",
    debt_type: DebtType = DebtType.CONSUMER,
    subdivision: str | None = None,
) -> InvoiceState:
    state = make_state(due_on, timezone=timezone)
    return state.model_copy(
        update={
            "customer": state.customer.model_copy(update={"country": country}),
            "contact_rules": rules_for_customer(country, debt_type, subdivision, due_on),
        }
    )


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def first_contact(policy: Policy, state: InvoiceState) -> tuple[datetime, SendMessage]:
    decision = next_action(policy, state, utc(2026, 1, 1))
    assert isinstance(decision.action, SendMessage) and decision.at is not None
    return decision.at, decision.action


# --- each pack's hours and days ---


def test_chile_a_sunday_contact_moves_to_monday_at_the_opening_of_the_policys_window() -> None:
    # Sunday 29 November 2026 10:00 (-03:00): the law allows Monday–Saturday 08:00–20:00, the
    # policy 09:00–19:00, so the first allowed moment is Monday 09:00 -03:00.
    at, action = first_contact(one_reminder(), state_in(date(2026, 11, 29)))
    assert at == utc(2026, 11, 30, 12, 0)
    assert action.moved_by == (
        "Sunday is not a contact day: policy one-reminder: Monday–Saturday 09:00–19:00 "
        f"(law: {CHILE_LAW}: Monday–Saturday 08:00–20:00)"
    )


def test_chile_fiestas_patrias_move_a_contact_to_the_next_business_day() -> None:
    # Friday 18 and Saturday 19 September 2026 are holidays, Sunday is closed: Monday 09:00.
    at, action = first_contact(one_reminder(), state_in(date(2026, 9, 18)))
    assert at == utc(2026, 9, 21, 12, 0)
    assert action.moved_by is not None
    assert action.moved_by.startswith(
        f"2026-09-18 is a public holiday (Independence Day): {CHILE_LAW}: never on holidays; "
        f"2026-09-19 is a public holiday (Army Day): {CHILE_LAW}: never on holidays; "
        "Sunday is not a contact day"
    )


def test_chile_a_regional_holiday_closes_only_its_region() -> None:
    # 7 June 2027 (a Monday) is a holiday in Arica y Parinacota only.
    national = state_in(date(2027, 6, 7))
    arica = state_in(date(2027, 6, 7), subdivision="AP")
    assert first_contact(one_reminder(), national)[0] == utc(2027, 6, 7, 14, 0)  # -04:00
    at, action = first_contact(one_reminder(), arica)
    assert at == utc(2027, 6, 8, 13, 0)
    assert action.moved_by is not None and "Cape Arica" in action.moved_by


def test_chile_business_debt_follows_the_business_rules_not_ley_19_496() -> None:
    at, action = first_contact(
        one_reminder(), state_in(date(2026, 11, 29), debt_type=DebtType.BUSINESS)
    )
    assert at == utc(2026, 11, 30, 12, 0)
    assert action.moved_by is not None
    assert action.moved_by.startswith("Sunday is not a contact day: policy one-reminder")
    assert f"(law: {BUSINESS_DEFAULT.window_source})" in action.moved_by


def test_mexico_06_30_waits_for_07_00_when_the_policy_allows_it() -> None:
    policy = one_reminder(WIDE_OPEN.window, send_at=time(6, 30))
    state = state_in(date(2026, 12, 1), "MX", "America/Mexico_City")
    at, action = first_contact(policy, state)
    assert at == utc(2026, 12, 1, 13, 0)  # 07:00 -06:00
    assert action.moved_by == (
        "06:30 is outside the contact hours: "
        "CONDUSEF, despachos de cobranza (DOF 07-10-2014): 07:00–22:00 local"
    )


def test_mexico_with_the_default_policy_window_the_policy_is_the_stricter() -> None:
    policy = one_reminder(send_at=time(6, 30))  # a window of 09:00–19:00
    at, action = first_contact(policy, state_in(date(2026, 12, 1), "MX", "America/Mexico_City"))
    assert at == utc(2026, 12, 1, 15, 0)  # 09:00 -06:00
    assert action.moved_by is not None
    assert action.moved_by.startswith("06:30 is outside the contact hours: policy one-reminder")


def test_united_states_21_30_moves_to_08_00_the_next_day() -> None:
    policy = one_reminder(WIDE_OPEN.window, send_at=time(21, 30))
    state = state_in(date(2026, 12, 1), "US", "America/New_York")
    at, action = first_contact(policy, state)
    assert at == utc(2026, 12, 2, 13, 0)  # Wednesday 08:00 -05:00
    assert action.moved_by == (
        "21:30 is outside the contact hours: "
        "Regulation F, 12 CFR 1006.6(b)(1)(i): 08:00–21:00 local"
    )


def test_a_contact_inside_the_window_is_not_moved() -> None:
    at, action = first_contact(one_reminder(), state_in(date(2026, 12, 1)))
    assert at == utc(2026, 12, 1, 13, 0)
    assert action.moved_by is None


# --- the reason survives until the message is sent ---


def test_the_reason_is_still_there_when_the_workflow_wakes_up_at_the_moved_moment() -> None:
    state = state_in(date(2026, 9, 18))
    first = next_action(one_reminder(), state, utc(2026, 9, 1))
    assert first.at is not None
    again = next_action(one_reminder(), state, first.at)
    assert again == first


def test_the_timeline_says_why_a_message_moved() -> None:
    state = state_in(date(2026, 11, 29))
    final, _ = simulate(one_reminder(), state, utc(2026, 11, 1))
    [sent] = [e for e in final.timeline if e.kind == "message_sent"]
    assert sent.at == utc(2026, 11, 30, 12, 0)
    assert sent.detail["moved_by"].startswith("Sunday is not a contact day")


def test_a_message_not_moved_has_no_reason_in_the_timeline() -> None:
    final, _ = simulate(one_reminder(), state_in(date(2026, 12, 1)), utc(2026, 11, 1))
    [sent] = [e for e in final.timeline if e.kind == "message_sent"]
    assert "moved_by" not in sent.detail


def test_an_invoice_entering_late_on_a_sunday_is_contacted_on_monday_saying_why() -> None:
    # The reminder was due on Wednesday; the invoice arrives on Sunday afternoon.
    policy = one_reminder()
    state = state_in(date(2026, 11, 25))
    decision = next_action(policy, state, utc(2026, 11, 29, 18, 0))
    assert decision.at == utc(2026, 11, 30, 12, 0)
    assert isinstance(decision.action, SendMessage)
    assert decision.action.moved_by is not None
    assert "Sunday is not a contact day" in decision.action.moved_by
    assert next_action(policy, state, decision.at) == decision


# --- what does not move, and what cannot be sent ---


def test_a_collectors_task_is_not_a_contact_and_opens_on_a_holiday() -> None:
    policy = Policy(
        name="task-only",
        version=1,
        description="",
        steps=(Negotiate(id="call", offset_days=0, queue="q", sla_days=3),),
    )
    decision = next_action(policy, state_in(date(2026, 9, 18)), utc(2026, 9, 1))
    assert isinstance(decision.action, OpenNegotiationTask)
    assert decision.at == utc(2026, 9, 18, 13, 0)


def test_a_legacy_state_without_rules_keeps_the_policy_window_alone() -> None:
    # Started before rule packs: it replays as it ran, on the holiday at 10:00.
    state = make_state(date(2026, 9, 18))
    assert state.contact_rules is None
    step = one_reminder().steps[0]
    assert isinstance(step, Remind)
    decision = next_action(one_reminder(), state, utc(2026, 9, 1))
    assert decision.at == utc(2026, 9, 18, 13, 0)
    assert decision.action == SendMessage(step, Channel.EMAIL)


def test_a_policy_window_that_never_meets_the_laws_falls_back_to_the_law() -> None:
    # A Sunday-only policy for a Chilean consumer: the law's hours apply, and the reason says so.
    sundays = one_reminder(ContactWindow(start=time(9), end=time(19), weekdays=frozenset({6})))
    at, action = first_contact(sundays, state_in(date(2026, 11, 29)))
    assert at == utc(2026, 11, 30, 11, 0)  # Monday 08:00 -03:00
    assert action.moved_by is not None
    assert action.moved_by.startswith(
        f"Sunday is not a contact day: {CHILE_LAW}: Monday–Saturday 08:00–20:00 "
        "(policy one-reminder's own window never meets it here)"
    )


def test_the_demo_ignores_every_window() -> None:
    state = state_in(date(2026, 9, 18)).model_copy(update={"respect_contact_window": False})
    decision = next_action(one_reminder(), state, utc(2026, 9, 1))
    assert decision.at == utc(2026, 9, 18, 13, 0)


# --- the pieces ---


@pytest.mark.parametrize(
    ("country", "tax_id", "expected"),
    [
        ("CL", "76.086.428-5", DebtType.BUSINESS),
        ("CL", "760864285", DebtType.BUSINESS),
        ("CL", "50.000.000-7", DebtType.BUSINESS),
        ("CL", "49.999.999-K", DebtType.CONSUMER),
        ("CL", "12.345.678-5", DebtType.CONSUMER),
        ("CL", "9.876.543-3", DebtType.CONSUMER),
        ("cl", "CL12345678-5", DebtType.CONSUMER),
        ("MX", "MAB9307148T4", DebtType.BUSINESS),
        ("MX", "GODE561231GR8", DebtType.CONSUMER),
        ("MX", "gode 561231 gr8", DebtType.CONSUMER),
        ("CL", "not a rut", None),
        ("CL", None, None),
        ("MX", "123456789012", None),
        ("CO", "900.123.456-7", None),
    ],
)
def test_the_tax_id_says_whose_debt_it_is(
    country: str, tax_id: str | None, expected: DebtType | None
) -> None:
    assert infer_debt_type(country, tax_id) is expected


def test_the_erp_first_then_the_tax_id_else_consumer() -> None:
    assert debt_type_of("CL", DebtType.CONSUMER, "76.086.428-5") is DebtType.CONSUMER
    assert debt_type_of("CL", None, "76.086.428-5") is DebtType.BUSINESS
    assert debt_type_of("CO", None, "900.123.456-7") is DebtType.CONSUMER
    assert debt_type_of("CL", None, None) is DebtType.CONSUMER


def test_rules_for_a_customer_are_the_pack_with_its_holidays() -> None:
    rules = rules_for_customer("CL", DebtType.CONSUMER, "RM", date(2026, 12, 1))
    assert rules.window == CHILE_CONSUMER.window and rules.subdivision == "RM"
    assert rules.holidays[date(2026, 9, 18)] == "Independence Day"
    assert min(rules.holidays).year == 2025 and max(rules.holidays).year == 2029
    assert rules_for_customer("MX", DebtType.BUSINESS, None, date(2026, 12, 1)).window == (
        MEXICO.window
    )


def test_effective_rules_keep_the_law_when_the_policy_is_wider() -> None:
    rules = effective_rules(CHILE_CONSUMER, WIDE_OPEN)
    assert rules.window == CHILE_CONSUMER.window
    assert rules.window_source == CHILE_CONSUMER.window_source


def test_next_contact_moment_says_why_an_early_moment_waits_for_the_opening() -> None:
    moment, reason = next_contact_moment(utc(2026, 12, 1, 12, 30), MEXICO, "America/Mexico_City")
    assert moment == utc(2026, 12, 1, 13, 0)
    assert reason is not None and reason.startswith("06:30 is outside the contact hours")
