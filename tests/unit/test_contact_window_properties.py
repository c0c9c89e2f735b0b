"""Every contact the engine makes is inside the effective window (the law's rules and the
policy's own, the stricter of each) of the debtor's local time, and never on a holiday of the
rules' calendar: over the bundled policies and random windows, time zones, countries and regions,
debt types, due dates and the moment the invoice enters, with a promise broken now and then."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from dunning_policies import transitions as t
from dunning_policies.calendar import local_date
from dunning_policies.engine import SendMessage, step_moment
from dunning_policies.holiday_calendar import known_subdivisions
from dunning_policies.jurisdictions import DebtType, effective_rules, rules_for_customer
from dunning_policies.language import Channel, ContactWindow, Policy
from dunning_policies.registry import all_policies
from dunning_policies.state import InvoiceState, TaskOutcome
from tests.factories import make_state
from tests.simulation import simulate

ZONES = [
    "America/Santiago",
    "America/Mexico_City",
    "America/Tijuana",
    "America/New_York",
    "America/Los_Angeles",
    "America/Bogota",
    "Europe/Madrid",
    "Pacific/Easter",
    "America/Punta_Arenas",
]
COUNTRIES = ["CL", "MX", "US", "CO", "PE", "AR", "ES"]


def _clock(minutes: int) -> time:
    return time(*divmod(minutes, 60))


@st.composite
def windows(draw: st.DrawFn) -> ContactWindow:
    """Open at least one hour on at least one day."""
    start = draw(st.integers(0, 22 * 60 + 59))
    end = draw(st.integers(start + 60, 23 * 60 + 59))
    weekdays = draw(st.frozensets(st.integers(0, 6), min_size=1))
    return ContactWindow(start=_clock(start), end=_clock(end), weekdays=weekdays)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    policy = draw(st.sampled_from(list(all_policies().values())))
    if draw(st.booleans()):
        return policy
    send_at = _clock(draw(st.integers(0, 24 * 4 - 1)) * 15)
    return policy.model_copy(update={"window": draw(windows()), "send_at": send_at})


def promising(days: int):
    """A collector's answer, if a task is open then: a promise ``days`` ahead, then broken."""

    def intervene(state: InvoiceState, now: datetime) -> InvoiceState:
        task = state.negotiation.task
        if task is None:
            return state
        completion = t.TaskCompletion(
            task_id=task.id,
            outcome=TaskOutcome.PROMISE_TO_PAY,
            promised_date=local_date(now, state.customer.timezone) + timedelta(days=days),
        )
        return t.complete_task(state, POLICY_OF[state.invoice_number], completion, now)

    return intervene


POLICY_OF: dict[str, Policy] = {}


@settings(max_examples=400, deadline=None)
@given(
    policy=policies(),
    zone=st.sampled_from(ZONES),
    country=st.sampled_from(COUNTRIES),
    debt_type=st.sampled_from(list(DebtType)),
    region=st.none() | st.integers(0, 100),
    due_on=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
    entry_hours=st.integers(-45 * 24, 30 * 24),
    promise=st.none() | st.tuples(st.integers(0, 40 * 24), st.integers(0, 10)),
    channels=st.frozensets(st.sampled_from(list(Channel)), min_size=1),
)
def test_every_contact_is_inside_the_effective_window_and_never_on_a_holiday(
    policy: Policy,
    zone: str,
    country: str,
    debt_type: DebtType,
    region: int | None,
    due_on: date,
    entry_hours: int,
    promise: tuple[int, int] | None,
    channels: frozenset[Channel],
) -> None:
    regions = known_subdivisions(country)
    subdivision = regions[region % len(regions)] if region is not None and regions else None
    base = make_state(due_on, timezone=zone, channels=channels)
    state = base.model_copy(
        update={
            "customer": base.customer.model_copy(update={"country": country}),
            "contact_rules": rules_for_customer(country, debt_type, subdivision, due_on),
        }
    )
    assert state.contact_rules is not None
    POLICY_OF[state.invoice_number] = policy
    due_midnight = datetime.combine(due_on, time(0), tzinfo=UTC)
    interventions = []
    if promise is not None:
        hours, days = promise
        interventions.append((due_midnight + timedelta(hours=hours), promising(days)))
    start = due_midnight + timedelta(hours=entry_hours)

    _, executed = simulate(policy, state, start, interventions)

    rules = effective_rules(state.contact_rules, policy)
    window = rules.window
    for done in executed:
        action = done.action
        if not isinstance(action, SendMessage):
            continue
        local = done.at.astimezone(ZoneInfo(zone))
        where = f"{action.step.id} at {local.isoformat()} under {window}"
        assert local.weekday() in window.weekdays, where
        assert window.start <= local.time() < window.end, where
        assert local.date() not in rules.holidays, f"{where}: {rules.holidays[local.date()]}"
        if action.moved_by is not None:
            # Moved means sent at an opening, the first moment the rules allowed.
            assert local.time() == window.start, where
        elif promise is None and done.at > start and action.step in policy.steps:
            # Not moved, neither late nor held by a promise: it went out at its own moment.
            assert done.at == step_moment(policy, state, action.step), where
