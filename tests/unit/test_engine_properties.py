"""Properties of the engine over random policies' inputs: due dates, time zones, "now",
payments and disputes at random moments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from dunning_policies import transitions as t
from dunning_policies.engine import Close, GiveUpStep, OpenNegotiationTask, SendMessage, step_moment
from dunning_policies.language import Channel, Negotiate, Remind
from dunning_policies.registry import all_policies
from dunning_policies.state import Payment, StepStatus
from tests.factories import make_state
from tests.simulation import simulate

POLICIES = list(all_policies().values())
ZONES = [
    "America/Santiago",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/New_York",
    "Europe/Madrid",
]

policies = st.sampled_from(POLICIES)
zones = st.sampled_from(ZONES)
due_dates = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))
channel_sets = st.frozensets(st.sampled_from(list(Channel)), min_size=1)
amounts = st.integers(min_value=1_000, max_value=50_000_000)


def start_of(due_on: date, offset_hours: int) -> datetime:
    return datetime.combine(due_on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=offset_hours)


def paying(amount: Decimal, payment_id: str):
    def intervene(state, now):
        return t.apply_payment(state, Payment(id=payment_id, amount=amount, paid_at=now), now)

    return intervene


def contacts(executed):
    return [e for e in executed if isinstance(e.action, SendMessage | OpenNegotiationTask)]


@settings(max_examples=150, deadline=None)
@given(policies, zones, due_dates, channel_sets, amounts, st.integers(-60 * 24, 90 * 24))
def test_after_full_payment_no_action_is_ever_scheduled(
    policy, zone, due_on, channels, amount, pay_at_hours
):
    state = make_state(due_on, amount=Decimal(amount), timezone=zone, channels=channels)
    start = start_of(due_on, -45 * 24)
    paid_at = start_of(due_on, pay_at_hours)
    final, executed = simulate(policy, state, start, [(paid_at, paying(Decimal(amount), "P-full"))])
    after = [e for e in executed if e.at >= paid_at]
    assert all(isinstance(e.action, Close) for e in after)
    assert final.closed_reason == "paid"


@settings(max_examples=150, deadline=None)
@given(policies, zones, due_dates, channel_sets)
def test_actions_come_in_non_decreasing_time_order(policy, zone, due_on, channels):
    state = make_state(due_on, timezone=zone, channels=channels)
    _, executed = simulate(policy, state, start_of(due_on, -45 * 24))
    times = [e.at for e in executed]
    assert times == sorted(times)
    assert executed, "an unpaid invoice always gets some action"


@settings(max_examples=150, deadline=None)
@given(
    policies,
    zones,
    due_dates,
    amounts,
    st.lists(st.tuples(st.integers(-40 * 24, 60 * 24), st.integers(1, 99)), min_size=1, max_size=4),
)
def test_a_partial_payment_never_skips_a_stage(policy, zone, due_on, amount, payments):
    total = Decimal(amount)
    state = make_state(due_on, amount=total, timezone=zone)
    start = start_of(due_on, -45 * 24)
    # Each payment is a small share, and all together stay below the total.
    shares = [
        (hours, (total * pct / 100 / (len(payments) + 1)).quantize(Decimal(1)))
        for hours, pct in payments
    ]
    plan = [(start_of(due_on, h), paying(a, f"P-{i}")) for i, (h, a) in enumerate(shares) if a > 0]
    unpaid, executed_unpaid = simulate(policy, state, start)
    partly, executed_partly = simulate(policy, state, start, plan)
    assert [(e.at, type(e.action)) for e in contacts(executed_partly)] == [
        (e.at, type(e.action)) for e in contacts(executed_unpaid)
    ]
    assert {k: v for k, v in partly.steps.items()} == dict(unpaid.steps)
    assert StepStatus.SKIPPED not in partly.steps.values()


@settings(max_examples=150, deadline=None)
@given(
    policies,
    zones,
    due_dates,
    st.integers(-40 * 24, 40 * 24),
    st.integers(1, 60 * 24),
    st.booleans(),
)
def test_a_dispute_stops_contacts_until_resolved(
    policy, zone, due_on, open_hours, length_hours, upheld
):
    state = make_state(due_on, timezone=zone)
    opened, resolved = start_of(due_on, open_hours), start_of(due_on, open_hours + length_hours)
    _, executed = simulate(
        policy,
        state,
        start_of(due_on, -45 * 24),
        [
            (opened, lambda s, now: t.open_dispute(s, "wrong amount", now, policy=policy)),
            (resolved, lambda s, now: t.resolve_dispute(s, policy, upheld, now, "reviewed")),
        ],
    )
    during = [e for e in contacts(executed) if opened <= e.at < resolved]
    assert during == []
    if upheld:
        assert not [e for e in contacts(executed) if e.at >= resolved]


@settings(max_examples=200, deadline=None)
@given(policies, zones, due_dates, channel_sets, st.integers(-30 * 24, 90 * 24))
def test_an_invoice_entering_late_starts_at_the_step_that_fits_now(
    policy, zone, due_on, channels, enter_hours
):
    state = make_state(due_on, timezone=zone, channels=channels)
    now = start_of(due_on, enter_hours)
    final, executed = simulate(policy, state, now)
    first = executed[0]
    timed = [s for s in policy.steps if isinstance(s, Remind | Negotiate)]
    # Judged when the first action really runs: entering out of hours waits for the window,
    # and by then a later step may fit better.
    past = [s for s in timed if step_moment(policy, state, s) <= first.at]
    if not past or step_moment(policy, state, past[0]) > now:
        assert StepStatus.SKIPPED not in final.steps.values()
        return
    # A collector's task is never skipped; among messages, only the latest one due is sent.
    late_task = next((s for s in past if isinstance(s, Negotiate)), None)
    expected = late_task or past[-1]
    assert isinstance(first.action, SendMessage | GiveUpStep | OpenNegotiationTask)
    assert first.action.step.id == expected.id
    assert first.action.skipped == tuple(s.id for s in timed[: timed.index(expected)])
    skipped_in_timeline = [e.step_id for e in final.timeline if e.kind == "step_skipped"]
    messages_after_task = [s for s in past if s not in timed[: timed.index(expected) + 1]]
    assert skipped_in_timeline == [
        s.id for s in [*timed[: timed.index(expected)], *messages_after_task[:-1]]
    ]
    assert final.steps.get(expected.id) is not StepStatus.SKIPPED
    # Never a burst: at most one message at the moment of entry, the rest on their schedule.
    messages = SendMessage | GiveUpStep
    assert len([e for e in executed if e.at == first.at and isinstance(e.action, messages)]) <= 1
