"""The customer's contact workflow on the time-skipping server: one voice per customer, the
jurisdiction's caps across invoices, opt-outs for every invoice, calls paused after a talk."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import WorkflowEnvironment

import api.invoicing
from api.contact_preferences import opt_out
from api.invoicing import CustomerDetails
from dunning_policies.holiday_calendar import public_holidays
from dunning_policies.jurisdictions import DebtType
from dunning_policies.language import Channel, Negotiate, Policy, Remind, Tone
from dunning_policies.registry import get_policy
from dunning_policies.state import TaskOutcome
from dunning_policies.transitions import TaskCompletion
from tests.workflows.harness import (
    SANTIAGO,
    Harness,
    Line,
    at_local,
    running_worker,
    sleep_until,
    today_in_santiago,
    until,
)
from workflows.invoice import InvoiceDunningWorkflow

NEW_YORK = ZoneInfo("America/New_York")


def consumer(harness: Harness, **changes: object) -> CustomerDetails:
    fields: dict[str, object] = {
        "id": harness.customer_id,
        "name": "María José Soto",
        "country": "CL",
        "timezone": "America/Santiago",
        "locale": "es_CL",
        "email": "mjsoto@example.cl",
        "phone": "+56987654321",
        "whatsapp": "+56987654321",
        "segment": "standard",
        "debt_type": DebtType.CONSUMER,
        **changes,
    }
    return CustomerDetails(**fields)  # type: ignore[arg-type]


def messages(harness: Harness, numbers: list[str]) -> dict[str, tuple[datetime, str, set[str]]]:
    """Every message the customer received: idempotency key → (when, channel, invoices)."""
    found: dict[str, tuple[datetime, str, set[str]]] = {}
    for number in numbers:
        for line in harness.bitacora(number):
            if line.kind != "message_sent":
                continue
            key = str(line.detail["idempotency_key"])
            at, channel, invoices = found.get(key, (line.at, str(line.channel), set()))
            found[key] = (min(at, line.at), channel, invoices | {number})
    return dict(sorted(found.items(), key=lambda item: item[1][0]))


async def test_a_chilean_consumer_with_five_overdue_invoices_hears_one_voice_within_the_law(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env = time_skipping_env
    today = await today_in_santiago(env)
    numbers = [f"CL5-{i}" for i in range(5)]
    async with running_worker(env.client, tmp_path) as harness:
        customer = consumer(harness)
        # Already overdue by 4 to 12 days when the ERP sends them, all at once (the server's
        # clock must not run ahead between two issuances, as it would skip to the next timer).
        with env.auto_time_skipping_disabled():
            for i, number in enumerate(numbers):
                due = today - timedelta(days=4 + 2 * i)
                await harness.issue(
                    number, due, issued_on=due - timedelta(days=30), customer=customer
                )
        await sleep_until(env, at_local(today + timedelta(days=30), 21))
        sent = messages(harness, numbers)

    assert sent, "nothing was sent"
    _, _, first_invoices = next(iter(sent.values()))
    assert first_invoices == set(numbers), (
        "the first message speaks of all five invoices",
        [(w.astimezone(SANTIAGO), sorted(i)) for w, _, i in sent.values()],
    )
    moments = [when for when, _, _ in sent.values()]
    holidays = public_holidays("CL", None, today)
    for when in moments:
        local = when.astimezone(SANTIAGO)
        assert time(8) <= local.time() < time(20), local
        assert local.weekday() < 6, f"{local:%A} is not a contact day"
        assert local.date() not in holidays, f"{local.date()} is {holidays.get(local.date())}"
    for moment in moments:
        in_week = [m for m in moments if moment - timedelta(days=7) < m <= moment]
        assert len(in_week) <= 2, f"more than 2 contacts in the week to {moment}: {in_week}"
    for earlier, later in pairwise(moments):
        assert later - earlier >= timedelta(hours=48), (earlier, later)
    assert sum(len(invoices) for _, _, invoices in sent.values()) > len(sent), (
        "later messages are consolidated too"
    )


async def test_stop_on_whatsapp_closes_it_for_every_invoice_of_the_customer(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env = time_skipping_env
    today = await today_in_santiago(env)
    due = today + timedelta(days=10)
    numbers = ["STOP-1", "STOP-2"]
    async with running_worker(env.client, tmp_path) as harness:
        customer = consumer(harness, debt_type=DebtType.BUSINESS, name="Comercial Sur Ltda.")
        for number in numbers:
            await harness.issue(number, due, issued_on=today, customer=customer)
        # The customer answers STOP on WhatsApp (the webhook's service, as a reply would call).
        await opt_out(
            harness.client,
            harness.sessions,
            customer.id,
            Channel.WHATSAPP,
            address=customer.whatsapp,
            source="whatsapp reply STOP",
        )
        # overdue_3 prefers WhatsApp; overdue_10 tries SMS, then WhatsApp.
        await sleep_until(env, at_local(due + timedelta(days=11), 21))
        sent = messages(harness, numbers)
        lines = {n: harness.bitacora(n) for n in numbers}

    assert all(channel != "whatsapp" for _, channel, _ in sent.values()), sent
    overdue_3 = [line for n in numbers for line in lines[n] if _is_sent(line, "overdue_3")]
    assert [line.channel for line in overdue_3] == ["sms", "sms"]
    for number in numbers:
        assert "channel_opted_out" in [line.kind for line in lines[number]]
    assert all(len(invoices) == 2 for _, _, invoices in sent.values()), "one voice"


def _is_sent(line: Line, step: str) -> bool:
    return line.kind == "message_sent" and line.step_id == step


CALLING = Policy(
    name="standard",
    version=1,
    description="A test policy that calls every day and has a collector talk in between.",
    steps=(
        *(
            Remind(
                id=f"call_{day}",
                offset_days=day,
                channels=(Channel.VOICE,),
                template="overdue",
                tone=Tone.NEUTRAL,
            )
            for day in range(1, 4)
        ),
        Negotiate(id="collector_call", offset_days=4, queue="us", sla_days=30),
        *(
            Remind(
                id=f"call_{day}",
                offset_days=day,
                channels=(Channel.VOICE,),
                template="overdue",
                tone=Tone.FIRM,
            )
            for day in range(5, 16)
        ),
    ),
    window=get_policy("standard").window.model_copy(update={"weekdays": frozenset(range(7))}),
)


@contextmanager
def policy_for_issuance(policy: Policy) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.invoicing, "get_policy", lambda name: policy)
        yield


async def test_a_us_consumer_gets_no_call_for_seven_days_after_a_conversation(
    time_skipping_env: WorkflowEnvironment, tmp_path
) -> None:
    env = time_skipping_env
    today = (await env.get_current_time()).astimezone(NEW_YORK).date()
    due = today + timedelta(days=2)
    number = "US-CALLS"
    async with running_worker(env.client, tmp_path) as harness:
        customer = consumer(
            harness,
            name="John Doe",
            country="US",
            timezone="America/New_York",
            locale="en_US",
            phone="+12125550123",
            whatsapp=None,
        )
        with policy_for_issuance(CALLING):
            await harness.issue(
                number, due, issued_on=today, currency="USD", amount="950", customer=customer
            )
        talked_at = datetime.combine(due + timedelta(days=4), time(11), tzinfo=NEW_YORK)
        await sleep_until(env, talked_at)
        await harness.handle(f"invoice-{number}").execute_update(
            InvoiceDunningWorkflow.complete_task,
            TaskCompletion(
                task_id=f"T-{number}-collector_call-1",
                outcome=TaskOutcome.REFUSED,
                note="says he will not pay",
            ),
        )
        await sleep_until(
            env, datetime.combine(due + timedelta(days=17), time(22), tzinfo=NEW_YORK)
        )
        await until(env, lambda: True)
        calls = [line for line in harness.bitacora(number) if line.kind == "message_sent"]

    moments = [line.at for line in calls]
    assert [line.channel for line in calls] == ["voice"] * len(calls)
    before = [m for m in moments if m < talked_at]
    after = [m for m in moments if m > talked_at]
    assert len(before) == 3
    assert after and min(after) >= talked_at + timedelta(days=7), after
    first_after = next(line for line in calls if line.at > talked_at)
    assert "1006.14(b)(2)(i)(B)" in str(first_after.detail.get("moved_by")), first_after.detail
    for moment in moments:
        in_week = [m for m in moments if moment - timedelta(days=7) < m <= moment]
        assert len(in_week) <= 7
        local = moment.astimezone(NEW_YORK)
        assert time(8) <= local.time() < time(21), local
