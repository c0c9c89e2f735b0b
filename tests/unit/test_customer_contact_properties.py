"""Properties of every contact a customer receives, across all their invoices: inside the law's
hours and days, never on a holiday, within the weekly caps, with the minimum gaps."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dunning_policies.customer_simulation import SentContact, simulate_customer
from dunning_policies.jurisdictions import ContactRules, DebtType, rules_for_customer
from dunning_policies.language import (
    Channel,
    ContactWindow,
    Negotiate,
    Policy,
    Remind,
    Tone,
    contact_class,
)
from dunning_policies.registry import all_policies
from dunning_policies.state import Customer, InvoiceState

ZONES = {
    "CL": ("America/Santiago", "America/Punta_Arenas", "Pacific/Easter"),
    "MX": ("America/Mexico_City", "America/Tijuana", "America/Cancun"),
    "US": ("America/New_York", "America/Chicago", "America/Los_Angeles"),
    "CO": ("America/Bogota",),
    "ES": ("Europe/Madrid",),
}

channel_lists = st.lists(st.sampled_from(list(Channel)), min_size=1, max_size=4, unique=True)


@st.composite
def random_policies(draw: st.DrawFn) -> Policy:
    offsets = sorted(draw(st.lists(st.integers(-5, 30), min_size=1, max_size=8)))
    steps: list[Remind | Negotiate] = [
        Remind(
            id=f"s{i}",
            offset_days=offset,
            channels=tuple(draw(channel_lists)),
            template="overdue",
            tone=draw(st.sampled_from(list(Tone))),
        )
        for i, offset in enumerate(offsets)
    ]
    start = draw(st.integers(0, 12))
    end = draw(st.integers(start + 1, 24))
    window = ContactWindow(
        start=time(start),
        end=time(23, 59) if end == 24 else time(end),
        weekdays=frozenset(draw(st.sets(st.integers(0, 6), min_size=1))),
    )
    return Policy(name="random", version=1, description="random", steps=tuple(steps), window=window)


policies = st.one_of(st.sampled_from(list(all_policies().values())), random_policies())


@st.composite
def customers(draw: st.DrawFn) -> tuple[dict[str, Policy], dict[str, InvoiceState], datetime]:
    country = draw(st.sampled_from(sorted(ZONES)))
    timezone = draw(st.sampled_from(ZONES[country]))
    debt_type = draw(st.sampled_from(list(DebtType)))
    base = draw(st.dates(date(2025, 1, 1), date(2028, 6, 30)))
    rules = rules_for_customer(country, debt_type, None, base)
    count = draw(st.integers(1, 6))
    channels = frozenset(draw(st.sets(st.sampled_from(list(Channel)), min_size=1)))
    by_number: dict[str, Policy] = {}
    states: dict[str, InvoiceState] = {}
    for i in range(count):
        number = f"F-{i}"
        due = base + timedelta(days=draw(st.integers(-20, 20)))
        by_number[number] = draw(policies)
        states[number] = InvoiceState(
            invoice_number=number,
            currency="CLP",
            original_amount=Decimal(100_000 * (i + 1)),
            issued_on=due - timedelta(days=30),
            due_on=due,
            customer=Customer(
                id="C-1", country=country, timezone=timezone, locale="es_CL", channels=channels
            ),
            contact_rules=rules,
        )
    start_day = base - timedelta(days=draw(st.integers(0, 40)))
    start = datetime.combine(start_day, time(draw(st.integers(0, 23))), tzinfo=ZoneInfo(timezone))
    return by_number, states, start.astimezone(UTC)


def _check_window(sent: SentContact, rules: ContactRules, timezone: str) -> None:
    local = sent.at.astimezone(ZoneInfo(timezone))
    assert rules.window.start <= local.time() < rules.window.end, (local, rules.window_source)
    assert local.weekday() in rules.window.weekdays, (local, rules.window_source)
    assert local.date() not in rules.holidays, (local, rules.holidays.get(local.date()))


def _check_limits(sent: list[SentContact], rules: ContactRules) -> None:
    for limit in rules.limits:
        period = timedelta(days=limit.period_days)
        of_class = [s for s in sent if contact_class(s.channel) == limit.contact_class]
        scopes: list[str | None] = (
            sorted({i for s in of_class for i in s.invoices}) if limit.per_debt else [None]
        )
        for scope in scopes:
            moments = [s.at for s in of_class if scope is None or scope in s.invoices]
            for moment in moments:
                in_period = [m for m in moments if moment - period < m <= moment]
                assert len(in_period) <= limit.max_contacts, (limit.source, scope, in_period)
    written = sorted(s.at for s in sent if contact_class(s.channel) == "written")
    for earlier, later in pairwise(written):
        assert later - earlier >= timedelta(hours=rules.min_gap_hours), rules.min_gap_source


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(customers())
def test_every_contact_of_a_customer_keeps_the_law_across_all_invoices(
    customer: tuple[dict[str, Policy], dict[str, InvoiceState], datetime],
) -> None:
    policies_by_number, states, start = customer
    last_due = max(s.due_on for s in states.values())
    until = datetime.combine(last_due + timedelta(days=45), time(0), tzinfo=UTC)
    run = simulate_customer(policies_by_number, states, start, until)
    first = next(iter(states.values()))
    rules = first.contact_rules
    assert rules is not None
    for message in run.sent:
        _check_window(message, rules, first.customer.timezone)
    _check_limits(run.sent, rules)
    # Every message spoke for invoices that asked; none asked twice for one step.
    spoken = [(n, s) for m in run.sent for n, s in zip(m.invoices, m.steps, strict=True)]
    assert len(spoken) == len(set(spoken))


def test_five_overdue_invoices_of_a_chilean_consumer_go_out_together() -> None:
    policy = all_policies()["standard"]
    rules = rules_for_customer("CL", DebtType.CONSUMER, None, date(2026, 11, 2))
    customer = Customer(
        id="C-1",
        country="CL",
        timezone="America/Santiago",
        locale="es_CL",
        channels=frozenset(Channel),
    )
    states = {
        f"F-{i}": InvoiceState(
            invoice_number=f"F-{i}",
            currency="CLP",
            original_amount=Decimal(100_000),
            issued_on=date(2026, 10, 1),
            due_on=date(2026, 11, 2),
            customer=customer,
            contact_rules=rules,
        )
        for i in range(5)
    }
    start = datetime(2026, 10, 20, 12, tzinfo=UTC)
    run = simulate_customer(
        dict.fromkeys(states, policy), states, start, datetime(2026, 12, 15, tzinfo=UTC)
    )
    assert run.sent, "nothing was sent"
    assert all(len(m.invoices) == 5 for m in run.sent), [m.invoices for m in run.sent]
    _check_limits(run.sent, rules)
