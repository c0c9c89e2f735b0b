"""SendGridEmailSender driving the real sendgrid SDK against the loopback fake."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

from activities.channels.base import DeliveryDeferred, DeliveryRejected, OutboundMessage
from activities.channels.sendgrid_email import SendGridEmailSender
from tests.fakes.provider_server import (
    SENDGRID_SEND_PATH,
    FakeProviderServer,
    provider_server,
    sendgrid_error,
)

API_KEY = "SG.test-key-never-logged"
FROM = "cobranza@example.com"
MAIL = OutboundMessage(
    idempotency_key="invoice-1001:reminder-1",
    channel="email",
    recipient="pagos@cliente.cl",
    subject="Factura 1001 vence hoy",
    body="Estimado cliente:\nSu factura 1001 vence hoy.",
    template="reminder_due",
    locale="es-CL",
)


@pytest.fixture
def fake() -> Iterator[FakeProviderServer]:
    yield from provider_server()


def make_sender(fake: FakeProviderServer, timeout: float = 5.0) -> SendGridEmailSender:
    return SendGridEmailSender(
        API_KEY, FROM, host=fake.url, timeout=timeout, from_name="Comercial Andes SpA"
    )


def test_success_posts_the_mail_and_returns_the_message_id(fake: FakeProviderServer) -> None:
    fake.script("POST", SENDGRID_SEND_PATH, [(202, None, {"X-Message-Id": "msg-abc123"})])

    assert make_sender(fake).send(MAIL) == "msg-abc123"

    [request] = fake.requests
    assert (request.method, request.path) == ("POST", "/v3/mail/send")
    assert request.header("Authorization") == f"Bearer {API_KEY}"
    assert request.body["personalizations"] == [{"to": [{"email": "pagos@cliente.cl"}]}]
    assert request.body["from"] == {"email": FROM, "name": "Comercial Andes SpA"}
    assert request.body["subject"] == "Factura 1001 vence hoy"
    assert request.body["content"] == [{"type": "text/plain", "value": MAIL.body}]
    assert request.body["custom_args"] == {"idempotency_key": "invoice-1001:reminder-1"}


def test_default_fake_answer_carries_a_message_id(fake: FakeProviderServer) -> None:
    message_id = make_sender(fake).send(MAIL)

    assert message_id and not message_id.startswith("sendgrid-")


def test_missing_message_id_header_falls_back_to_a_stable_id(fake: FakeProviderServer) -> None:
    fake.script("POST", SENDGRID_SEND_PATH, [(202, None, {})])
    sender = make_sender(fake)

    first, second = sender.send(MAIL), sender.send(MAIL)

    assert first == second
    assert uuid.UUID(first.removeprefix("sendgrid-"))


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_throttling_are_deferred(fake: FakeProviderServer, status: int) -> None:
    fake.script("POST", SENDGRID_SEND_PATH, [(status, sendgrid_error("try later"), {})])

    with pytest.raises(DeliveryDeferred) as deferred:
        make_sender(fake).send(MAIL)

    assert deferred.value.code == f"sendgrid_{status}"


def test_bad_request_is_rejected_with_sendgrid_message(fake: FakeProviderServer) -> None:
    error = sendgrid_error("Does not contain a valid address.", "personalizations.0.to.0.email")
    fake.script("POST", SENDGRID_SEND_PATH, [(400, error, {})])

    with pytest.raises(DeliveryRejected) as rejected:
        make_sender(fake).send(MAIL)

    assert rejected.value.code == "sendgrid_400"
    assert rejected.value.reason == "Does not contain a valid address."


@pytest.mark.parametrize("status", [401, 403, 404, 413])
def test_permanent_statuses_are_rejected(fake: FakeProviderServer, status: int) -> None:
    fake.script("POST", SENDGRID_SEND_PATH, [(status, sendgrid_error("nope"), {})])

    with pytest.raises(DeliveryRejected) as rejected:
        make_sender(fake).send(MAIL)

    assert (rejected.value.code, rejected.value.reason) == (f"sendgrid_{status}", "nope")


def test_deferred_then_success_on_retry(fake: FakeProviderServer) -> None:
    fake.script(
        "POST",
        SENDGRID_SEND_PATH,
        [(503, None, {}), (202, None, {"X-Message-Id": "msg-second"})],
    )
    sender = make_sender(fake)

    with pytest.raises(DeliveryDeferred):
        sender.send(MAIL)
    assert sender.send(MAIL) == "msg-second"


def test_slow_provider_times_out_as_deferred(fake: FakeProviderServer) -> None:
    fake.script("POST", SENDGRID_SEND_PATH, [(202, None, {})], delay=5.0)

    with pytest.raises(DeliveryDeferred) as deferred:
        make_sender(fake, timeout=0.2).send(MAIL)

    assert deferred.value.code == "sendgrid_timeout"


def test_unreachable_provider_is_deferred() -> None:
    with FakeProviderServer() as gone:
        url = gone.url

    with pytest.raises(DeliveryDeferred) as deferred:
        SendGridEmailSender(API_KEY, FROM, host=url, timeout=2.0).send(MAIL)

    assert deferred.value.code == "sendgrid_connection"


def test_email_without_subject_is_rejected_before_calling(fake: FakeProviderServer) -> None:
    no_subject = OutboundMessage(**{**MAIL.__dict__, "subject": None})

    with pytest.raises(DeliveryRejected) as rejected:
        make_sender(fake).send(no_subject)

    assert rejected.value.code == "sendgrid_missing_subject"
    assert fake.requests == []


def test_sdk_debug_logging_never_shows_the_key_or_the_payload(
    fake: FakeProviderServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        make_sender(fake).send(MAIL)

    assert "/v3/mail/send" in caplog.text  # the SDK did log at DEBUG
    assert API_KEY not in caplog.text
    assert MAIL.recipient not in caplog.text


def test_sms_is_not_an_email_channel(fake: FakeProviderServer) -> None:
    sms = OutboundMessage(**{**MAIL.__dict__, "channel": "sms"})

    with pytest.raises(ValueError, match="sms"):
        make_sender(fake).send(sms)
