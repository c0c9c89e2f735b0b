"""The real Twilio and SendGrid SDK senders inside the workflow, against the loopback fake
providers, on Temporal's time-skipping server with the real activities writing a SQLite ledger.

A transient provider error is retried by Temporal and the message still goes out once; a
permanent one is not retried, and the step falls back to its next channel at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.channels.base import ChannelSender
from activities.channels.sendgrid_email import SendGridEmailSender
from activities.channels.twilio_messaging import TwilioSender
from api.invoicing import CustomerDetails
from dunning_policies.jurisdictions import DebtType
from dunning_policies.language import Channel
from ledger.db import unit_of_work
from ledger.repositories.outbox import OutboxRepository
from tests.fakes.provider_server import (
    SENDGRID_SEND_PATH,
    TWILIO_MESSAGES_PATH,
    FakeProviderServer,
    RecordedRequest,
    provider_server,
    sendgrid_error,
    twilio_error,
)
from tests.workflows.harness import (
    Harness,
    at_local,
    contact_at,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
)

SID = "AC0123456789abcdef0123456789abcdef"
SMS_FROM = "+15005550006"
PHONE = "+56912345678"


@pytest.fixture
def fake() -> Iterator[FakeProviderServer]:
    yield from provider_server()


def real_senders(fake: FakeProviderServer) -> dict[Channel, ChannelSender]:
    email = SendGridEmailSender("SG.test-key", "cobranza@example.com", host=fake.url, timeout=5)
    twilio = TwilioSender(SID, "token", SMS_FROM, "+14155238886", api_base_url=fake.url, timeout=5)
    return {Channel.EMAIL: email, Channel.SMS: twilio, Channel.WHATSAPP: twilio}


def requests_to(fake: FakeProviderServer, path_regex: str) -> list[RecordedRequest]:
    return [r for r in fake.requests if re.fullmatch(path_regex, r.path)]


def outbox_rows(harness: Harness, number: str) -> list[tuple[str, str, str, int, str | None]]:
    """(step, channel, status, attempts, error code) of every outbox row, in order."""
    with unit_of_work(harness.sessions) as session:
        rows = OutboxRepository.from_session(session).list_messages(invoice_number=number)
        return [(m.step_id, m.channel, m.status, m.attempts, m.error_code) for m in rows]


async def issue(
    env: WorkflowEnvironment, harness: Harness, number: str, customer: CustomerDetails | None = None
) -> date:
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    await harness.issue(number, due, issued_on=today, customer=customer)
    return due


def late_by(actual: datetime, planned: datetime) -> timedelta:
    return actual - planned


async def test_a_sendgrid_500_is_retried_and_the_email_goes_out_once(
    time_skipping_env: WorkflowEnvironment, tmp_path, fake: FakeProviderServer
) -> None:
    env, number = time_skipping_env, "PRV-SG-RETRY"
    fake.script(
        "POST",
        SENDGRID_SEND_PATH,
        [(500, sendgrid_error("internal error"), {}), (202, None, {"X-Message-Id": "sg-msg-1"})],
    )
    async with running_worker(env.client, tmp_path, real_senders(fake)) as harness:
        due = await issue(env, harness, number)
        await sleep_until(env, at_local(due - timedelta(days=3), 12))

        sends = requests_to(fake, SENDGRID_SEND_PATH)
        key = f"invoice-{number}:preventive:email"
        assert [r.body["custom_args"] for r in sends] == [{"idempotency_key": key}] * 2
        assert sends[0].body == sends[1].body  # the retry sends the very same message
        assert requests_to(fake, TWILIO_MESSAGES_PATH) == []
        assert outbox_rows(harness, number) == [("preventive", "email", "sent", 2, None)]
        lines = [line for line in harness.bitacora(number) if line.kind.startswith("message_")]
        [sent] = lines
        assert (sent.kind, sent.step_id, sent.channel) == ("message_sent", "preventive", "email")
        assert (sent.detail["provider"], sent.detail["provider_message_id"]) == (
            "sendgrid",
            "sg-msg-1",
        )
        # The retry came after SEND_RETRY's first backoff (5 s of server time).
        delay = late_by(sent.at, at_local(due - timedelta(days=3)))
        assert timedelta(seconds=5) <= delay < timedelta(seconds=30)


async def test_an_invalid_number_is_not_retried_and_the_step_falls_back_to_email(
    time_skipping_env: WorkflowEnvironment, tmp_path, fake: FakeProviderServer
) -> None:
    env, number = time_skipping_env, "PRV-TW-21211"
    fake.script(
        "POST",
        TWILIO_MESSAGES_PATH,
        [(400, twilio_error(21211, f"The 'To' number {PHONE} is not a valid phone number."), {})],
    )
    # No WhatsApp on file: overdue_3 (whatsapp, sms, email) and overdue_10 (sms, whatsapp,
    # email) both start with SMS.
    customer = CustomerDetails(
        id="C-8", name="Comercial Sur Ltda.", country="CL", timezone="America/Santiago",
        locale="es_CL", email="pagos@sur.cl", phone=PHONE, whatsapp=None, segment="standard",
        debt_type=DebtType.BUSINESS,
    )  # fmt: skip
    async with running_worker(env.client, tmp_path, real_senders(fake)) as harness:
        due = await issue(env, harness, number, customer)
        await sleep_until(env, contact_at(due + timedelta(days=10)) + timedelta(hours=2))

        [sms] = requests_to(fake, TWILIO_MESSAGES_PATH)  # once: never retried, never again
        assert (sms.body["To"], sms.body["From"]) == (PHONE, SMS_FROM)
        assert len(requests_to(fake, SENDGRID_SEND_PATH)) == 4
        assert outbox_rows(harness, number) == [
            ("preventive", "email", "sent", 1, None),
            ("due_day", "email", "sent", 1, None),
            ("overdue_3", "sms", "failed", 1, "twilio_21211"),
            ("overdue_3", "email", "sent", 1, None),
            ("overdue_10", "email", "sent", 1, None),
        ]
        lines = harness.bitacora(number)
        assert [(line.kind, line.step_id, line.channel) for line in lines] == [
            ("issued", None, None),
            ("message_sent", "preventive", "email"),
            ("message_sent", "due_day", "email"),
            ("message_failed", "overdue_3", "sms"),
            ("message_sent", "overdue_3", "email"),
            ("message_sent", "overdue_10", "email"),
        ]
        failed, fallback = lines[3], lines[4]
        assert failed.detail["code"] == "twilio_21211"
        assert PHONE in str(failed.detail["reason"])
        # The fallback went out at once, in the same step's moment.
        planned = contact_at(due + timedelta(days=3))
        assert timedelta(0) <= late_by(fallback.at, planned) < timedelta(seconds=5)
        planned = contact_at(due + timedelta(days=10))
        assert timedelta(0) <= late_by(lines[5].at, planned) < timedelta(seconds=5)


OVERDUE_CONTENT_SID = "HX" + "0123456789abcdef" * 2


def whatsapp_senders(
    fake: FakeProviderServer, content_sids: dict[str, str]
) -> dict[Channel, ChannelSender]:
    email = SendGridEmailSender("SG.test-key", "cobranza@example.com", host=fake.url, timeout=5)
    twilio = TwilioSender(
        SID,
        "token",
        SMS_FROM,
        "+14155238886",
        api_base_url=fake.url,
        timeout=5,
        whatsapp_content_sids=content_sids,
    )
    return {Channel.EMAIL: email, Channel.SMS: twilio, Channel.WHATSAPP: twilio}


async def test_a_business_initiated_whatsapp_uses_the_approved_template(
    time_skipping_env: WorkflowEnvironment, tmp_path, fake: FakeProviderServer
) -> None:
    """No message from the customer in 24 hours: overdue_3 goes as the approved template."""
    env, number = time_skipping_env, "PRV-WA-TEMPLATE"
    senders = whatsapp_senders(fake, {"overdue.es": OVERDUE_CONTENT_SID})
    async with running_worker(env.client, tmp_path, senders) as harness:
        due = await issue(env, harness, number)
        await sleep_until(env, contact_at(due + timedelta(days=3)) + timedelta(hours=2))
        rows = outbox_rows(harness, number)

    assert rows[-1][:3] == ("overdue_3", "whatsapp", "sent")
    whatsapp = [r.body for r in requests_to(fake, TWILIO_MESSAGES_PATH)
                if str(r.body.get("To", "")).startswith("whatsapp:")]  # fmt: skip
    assert len(whatsapp) == 1
    assert whatsapp[0]["ContentSid"] == OVERDUE_CONTENT_SID
    assert "Body" not in whatsapp[0]
    assert number in whatsapp[0]["ContentVariables"]


async def test_without_an_approved_template_the_step_falls_back_to_sms(
    time_skipping_env: WorkflowEnvironment, tmp_path, fake: FakeProviderServer
) -> None:
    env, number = time_skipping_env, "PRV-WA-NO-TEMPLATE"
    async with running_worker(env.client, tmp_path, whatsapp_senders(fake, {})) as harness:
        due = await issue(env, harness, number)
        await sleep_until(env, contact_at(due + timedelta(days=3)) + timedelta(hours=2))
        rows = outbox_rows(harness, number)

    assert rows[-2:] == [
        ("overdue_3", "whatsapp", "failed", 1, "no_approved_template"),
        ("overdue_3", "sms", "sent", 1, None),
    ]
