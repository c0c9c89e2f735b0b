"""A provider outage, on Temporal's time-skipping server with the real SendGrid SDK against the
loopback fake: the send retries the same channel through it (``SEND_RETRY``) and the message is
delivered once the provider is back, without falling back to another channel; an outage longer
than ``send_time_limit`` ends in the next channel, not in retries forever.

The server skips the retry backoff, so hours of outage take seconds of wall time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from activities.channels.base import ChannelSender, DeliveryDeferred, OutboundMessage
from activities.channels.sendgrid_email import SendGridEmailSender
from activities.channels.twilio_messaging import TwilioSender
from activities.contracts import contact_workflow_id
from dunning_policies.jurisdictions import DebtType, effective_rules, rules_for_customer
from dunning_policies.language import Channel
from dunning_policies.registry import get_policy
from tests.fakes.provider_server import (
    SENDGRID_SEND_PATH,
    TWILIO_MESSAGES_PATH,
    FakeProviderServer,
    provider_server,
)
from tests.workflows.harness import (
    Harness,
    RecordingSender,
    contact_at,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
    until,
)
from tests.workflows.test_providers import SID, SMS_FROM, outbox_rows, requests_to
from workflows.invoice import InvoiceDunningWorkflow
from workflows.retries import SEND_OUTAGE_LIMIT, SEND_START_TO_CLOSE, send_time_limit

SANTIAGO = ZoneInfo("America/Santiago")
RULES = effective_rules(
    rules_for_customer("CL", DebtType.BUSINESS, None, date(2026, 12, 1)), get_policy("standard")
)
"""The harness customer's: a Chilean company on the standard policy."""


@pytest.fixture
def fake() -> Iterator[FakeProviderServer]:
    yield from provider_server()


def senders(fake: FakeProviderServer) -> tuple[dict[Channel, ChannelSender], RecordingSender]:
    """Email through the real SendGrid SDK to the fake; WhatsApp (the preventive step's
    fallback) to a recording sender, which stays up whatever the fake does."""
    email = SendGridEmailSender("SG.test-key", "cobranza@example.com", host=fake.url, timeout=5)
    whatsapp = RecordingSender()
    return {Channel.EMAIL: email, Channel.WHATSAPP: whatsapp}, whatsapp


async def first_failure(env: WorkflowEnvironment, fake: FakeProviderServer) -> datetime:
    """Server time by which the first send has hit the outage."""
    for _ in range(120):
        if fake.outage_requests:
            return await env.get_current_time()
        await env.sleep(timedelta(seconds=5))
    raise AssertionError("the send never reached the provider")


async def issue(env: WorkflowEnvironment, harness: Harness, number: str) -> datetime:
    """Issue an invoice; return when its preventive email (the first message) is due."""
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    await harness.issue(number, due, issued_on=today)
    return contact_at(due - timedelta(days=3))


async def status_of(env: WorkflowEnvironment, workflow_id: str) -> WorkflowExecutionStatus | None:
    return (await env.client.get_workflow_handle(workflow_id).describe()).status


@pytest.mark.parametrize(
    ("outage", "answer"),
    [(timedelta(minutes=10), 503), (timedelta(hours=3), None)],
    ids=["10 min of 503", "3 h of dropped connections"],
)
async def test_an_outage_is_ridden_out_and_the_email_goes_out_once_on_its_channel(
    time_skipping_env: WorkflowEnvironment,
    tmp_path,
    fake: FakeProviderServer,
    outage: timedelta,
    answer: int | None,
) -> None:
    env, number = time_skipping_env, f"OUT-RIDE-{answer or 'DROP'}"
    all_senders, whatsapp = senders(fake)
    fake.outage(answer, path_regex=SENDGRID_SEND_PATH)
    async with running_worker(env.client, tmp_path, all_senders) as harness:
        planned = await issue(env, harness, number)
        await sleep_until(env, planned - timedelta(minutes=1))
        down_since = await first_failure(env, fake)

        # The provider stays down for the whole span while the server skips through the retries.
        await env.sleep(outage)
        failed_attempts = len(fake.outage_requests)
        fake.restore()
        back_at = await env.get_current_time()
        # Within one capped backoff (5 min) of the provider's return, and then some.
        await until(
            env,
            lambda: "message_sent" in [line.kind for line in harness.bitacora(number)],
            "the bitácora records the send",
            tries=400,
        )

        # No fallback: the email went out, nothing on any other channel, no failure on record.
        lines = [line for line in harness.bitacora(number) if line.kind.startswith("message_")]
        assert [(line.kind, line.step_id, line.channel) for line in lines] == [
            ("message_sent", "preventive", "email")
        ]
        assert whatsapp.sent == []
        # Exactly one message reached SendGrid, after every attempt during the outage failed.
        [delivered] = requests_to(fake, SENDGRID_SEND_PATH)
        key = f"invoice-{number}:preventive:email"
        assert delivered.body["custom_args"] == {"idempotency_key": key}
        assert failed_attempts >= 5
        assert len(fake.outage_requests) == failed_attempts  # nothing hit it after the restore
        assert outbox_rows(harness, number) == [
            ("preventive", "email", "sent", failed_attempts + 1, None)
        ]
        [sent] = lines
        # Delivered after the outage, within one capped backoff of the provider's return.
        assert sent.at - down_since >= outage
        assert sent.at - back_at <= timedelta(minutes=5, seconds=30)
        handle = harness.handle(f"invoice-{number}")
        timeline = (await handle.query(InvoiceDunningWorkflow.status)).timeline
        assert [
            (e.kind, e.step_id, e.channel) for e in timeline if e.kind.startswith("message_")
        ] == [("message_sent", "preventive", Channel.EMAIL)]
        assert await status_of(env, handle.id) == WorkflowExecutionStatus.RUNNING
        # The customer's contact workflow ends by itself once nothing is queued: not failed.
        contact = contact_workflow_id(harness.customer_id)
        assert await status_of(env, contact) in {
            WorkflowExecutionStatus.RUNNING,
            WorkflowExecutionStatus.COMPLETED,
        }


async def test_an_outage_past_the_limit_falls_back_to_the_next_channel_the_same_day(
    time_skipping_env: WorkflowEnvironment, tmp_path, fake: FakeProviderServer
) -> None:
    """SendGrid down all day: email retries for ``SEND_OUTAGE_LIMIT``, then stops, and the step's
    next channel (WhatsApp) goes out at once, still inside the contact window."""
    env, number = time_skipping_env, "OUT-LIMIT"
    all_senders, whatsapp = senders(fake)
    fake.outage(503)
    async with running_worker(env.client, tmp_path, all_senders) as harness:
        planned = await issue(env, harness, number)
        await sleep_until(env, planned + SEND_OUTAGE_LIMIT + timedelta(minutes=10))
        await until(
            env,
            lambda: "message_sent" in [line.kind for line in harness.bitacora(number)],
            "the fallback in the bitácora",
        )
        attempts = fake.outage_requests
        rows = outbox_rows(harness, number)
        lines = [line for line in harness.bitacora(number) if line.kind.startswith("message_")]
        handle = harness.handle(f"invoice-{number}")
        invoice_status = await status_of(env, handle.id)

    assert requests_to(fake, SENDGRID_SEND_PATH) == []
    assert len(attempts) > 50  # hours of retries, every 5 min at most
    assert len(whatsapp.sent) == 1
    assert [(line.kind, line.step_id, line.channel) for line in lines] == [
        ("message_failed", "preventive", "email"),
        ("message_sent", "preventive", "whatsapp"),
    ]
    failed, fallback = lines
    assert failed.detail["code"] == "retries_exhausted"
    # The email retried for the limit, and not longer; the fallback followed at once.
    assert SEND_OUTAGE_LIMIT - timedelta(minutes=6) <= failed.at - planned <= SEND_OUTAGE_LIMIT
    assert fallback.at - failed.at < timedelta(minutes=1)
    assert fallback.at.astimezone(SANTIAGO).date() == planned.astimezone(SANTIAGO).date()
    assert [row[:3] for row in rows] == [
        ("preventive", "email", "failed"),  # never accepted: given up, not left pending
        ("preventive", "whatsapp", "sent"),
    ]
    assert rows[0][3] == len(attempts)
    assert rows[0][4] == "retries_exhausted"
    assert invoice_status == WorkflowExecutionStatus.RUNNING


async def test_retries_end_before_the_contact_window_closes(
    time_skipping_env: WorkflowEnvironment, tmp_path, fake: FakeProviderServer
) -> None:
    """An invoice entered at 17:00 sends its due-day email at once, into an outage: the email
    retries only until its last attempt ends before the window closes (19:00 for a company on
    the standard policy), and SMS, the step's next channel, goes out before the close."""
    env, number = time_skipping_env, "OUT-WINDOW"
    email = SendGridEmailSender("SG.test-key", "cobranza@example.com", host=fake.url, timeout=5)
    sms = RecordingSender()
    fake.outage(503)
    day = next_tuesday_after(await today_in_santiago(env), 1)
    while contact_at(day).date() != day:  # a public holiday: the next Tuesday
        day += timedelta(days=7)
    closes = datetime.combine(day, RULES.window.end, tzinfo=SANTIAGO)
    channels: dict[Channel, ChannelSender] = {Channel.EMAIL: email, Channel.SMS: sms}
    async with running_worker(env.client, tmp_path, channels) as harness:
        await sleep_until(env, datetime.combine(day, time(17), tzinfo=SANTIAGO))
        await harness.issue(number, day, issued_on=day - timedelta(days=30))
        await sleep_until(env, closes + timedelta(minutes=5))
        await until(
            env,
            lambda: "message_sent" in [line.kind for line in harness.bitacora(number)],
            "the fallback in the bitácora",
        )
        lines = [line for line in harness.bitacora(number) if line.kind.startswith("message_")]

    assert [(line.kind, line.step_id, line.channel) for line in lines] == [
        ("message_failed", "due_day", "email"),
        ("message_sent", "due_day", "sms"),
    ]
    failed, fallback = lines
    assert failed.detail["code"] == "retries_exhausted"
    last_end = closes - SEND_START_TO_CLOSE
    assert last_end - timedelta(minutes=6) <= failed.at <= last_end
    assert fallback.at < closes
    assert len(sms.sent) == 1
    assert len(fake.outage_requests) > 10  # it did ride out the outage until then


# --- the bound itself, and the fake's outage as the SDKs see it ---


def at_santiago(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date(2026, 12, 1), time(hour, minute), tzinfo=SANTIAGO)


def test_retries_stop_before_the_contact_window_closes() -> None:
    closes = datetime.combine(date(2026, 12, 1), RULES.window.end, tzinfo=SANTIAGO)
    assert closes - at_santiago(10) > SEND_OUTAGE_LIMIT
    assert send_time_limit(at_santiago(10), RULES, "America/Santiago") == SEND_OUTAGE_LIMIT
    late = at_santiago(15, 30)
    assert send_time_limit(late, RULES, "America/Santiago") == closes - late - SEND_START_TO_CLOSE
    # Decided in the window's last minute: one attempt, no retries past the close.
    last = closes - timedelta(seconds=30)
    assert send_time_limit(last, RULES, "America/Santiago") == SEND_START_TO_CLOSE


def test_without_a_window_the_limit_is_the_outage_limit() -> None:
    evening = at_santiago(21)
    assert send_time_limit(evening, None, "America/Santiago") == SEND_OUTAGE_LIMIT
    relaxed = send_time_limit(evening, RULES, "America/Santiago", respect_rules=False)
    assert relaxed == SEND_OUTAGE_LIMIT


def message(channel: str, recipient: str) -> OutboundMessage:
    return OutboundMessage(
        idempotency_key=f"k-{channel}",
        channel=channel,
        recipient=recipient,
        subject="Factura F-1",
        body="Su factura vence pronto.",
        template="before_due",
        locale="es_CL",
    )


@pytest.mark.parametrize("answer", [503, None], ids=["503", "dropped"])
def test_the_fake_outage_is_a_transient_failure_for_both_sdks(
    fake: FakeProviderServer, answer: int | None
) -> None:
    email = SendGridEmailSender("SG.test-key", "cobranza@example.com", host=fake.url, timeout=5)
    sms = TwilioSender(SID, "token", SMS_FROM, "", api_base_url=fake.url, timeout=5)
    fake.outage(answer)
    with pytest.raises(DeliveryDeferred):
        email.send(message("email", "pagos@losandes.cl"))
    with pytest.raises(DeliveryDeferred):
        sms.send(message("sms", "+56912345678"))
    assert fake.requests == []
    assert len(fake.outage_requests) == 2
    fake.restore()
    assert email.send(message("email", "pagos@losandes.cl"))
    assert sms.send(message("sms", "+56912345678"))
    assert len(requests_to(fake, SENDGRID_SEND_PATH)) == len(
        requests_to(fake, TWILIO_MESSAGES_PATH)
    )
