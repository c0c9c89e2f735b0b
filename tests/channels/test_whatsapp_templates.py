"""WhatsApp's 24-hour rule in TwilioSender, through the real twilio SDK against the loopback fake:
free-form text inside the window, an approved content template outside it, else a rejection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from activities.channels.base import (
    DeliveryRejected,
    OutboundMessage,
    whatsapp_free_form_allowed,
)
from activities.channels.console import ConsoleSender
from activities.channels.twilio_messaging import NO_APPROVED_TEMPLATE, TwilioSender
from tests.fakes.provider_server import FakeProviderServer, provider_server

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-test-token"
SMS_FROM = "+15005550006"
WHATSAPP_FROM = "+14155238886"
CUSTOMER = "+56912345678"
OVERDUE_ES = "HX" + "0" * 32
OVERDUE_EN = "HX" + "e" * 32
CONTENT_SIDS = {"overdue.es": OVERDUE_ES, "overdue.en": OVERDUE_EN}
VARIABLES = (
    ("1", "María José Pérez"),
    ("2", "F-2026-0042"),
    ("3", "$1.250.000"),
    ("4", "1 de diciembre de 2026"),
    ("5", "https://pagar.andes.cl/f/F-2026-0042"),
)
OUTSIDE_WINDOW = OutboundMessage(
    idempotency_key="invoice-F-2026-0042:overdue_3:whatsapp",
    channel="whatsapp",
    recipient=CUSTOMER,
    subject=None,
    body="Estimado(a) María José Pérez: la factura F-2026-0042 ...",
    template="overdue",
    locale="es_CL",
    free_form_allowed=False,
    template_variables=VARIABLES,
)


@pytest.fixture
def fake() -> Iterator[FakeProviderServer]:
    yield from provider_server()


def make_sender(fake: FakeProviderServer) -> TwilioSender:
    return TwilioSender(
        SID,
        TOKEN,
        SMS_FROM,
        WHATSAPP_FROM,
        api_base_url=fake.url,
        timeout=5.0,
        whatsapp_content_sids=CONTENT_SIDS,
    )


def test_outside_the_window_the_approved_template_is_sent_without_a_body(
    fake: FakeProviderServer,
) -> None:
    assert make_sender(fake).send(OUTSIDE_WINDOW).startswith("SM")

    [request] = fake.requests
    assert request.body["ContentSid"] == OVERDUE_ES
    assert json.loads(request.body["ContentVariables"]) == dict(VARIABLES)
    assert "Body" not in request.body
    assert request.body["To"] == f"whatsapp:{CUSTOMER}"
    assert request.body["From"] == f"whatsapp:{WHATSAPP_FROM}"


def test_the_template_is_chosen_by_the_debtor_s_language(fake: FakeProviderServer) -> None:
    make_sender(fake).send(replace(OUTSIDE_WINDOW, locale="en_US"))

    [request] = fake.requests
    assert request.body["ContentSid"] == OVERDUE_EN


def test_a_template_without_placeholders_sends_no_variables(fake: FakeProviderServer) -> None:
    make_sender(fake).send(replace(OUTSIDE_WINDOW, template_variables=()))

    [request] = fake.requests
    assert request.body["ContentSid"] == OVERDUE_ES
    assert "ContentVariables" not in request.body


def test_inside_the_window_the_text_goes_free_form(fake: FakeProviderServer) -> None:
    make_sender(fake).send(replace(OUTSIDE_WINDOW, free_form_allowed=True))

    [request] = fake.requests
    assert request.body["Body"] == OUTSIDE_WINDOW.body
    assert "ContentSid" not in request.body and "ContentVariables" not in request.body


def test_without_an_approved_template_the_message_is_rejected_and_nothing_sent(
    fake: FakeProviderServer,
) -> None:
    with pytest.raises(DeliveryRejected) as rejected:
        make_sender(fake).send(replace(OUTSIDE_WINDOW, template="final_notice"))

    assert rejected.value.code == NO_APPROVED_TEMPLATE == "no_approved_template"
    assert "final_notice.es" in rejected.value.reason
    assert fake.requests == []


def test_sms_ignores_the_whatsapp_window(fake: FakeProviderServer) -> None:
    make_sender(fake).send(replace(OUTSIDE_WINDOW, channel="sms"))

    [request] = fake.requests
    assert request.body["Body"] == OUTSIDE_WINDOW.body
    assert request.body["From"] == SMS_FROM


def test_the_console_says_which_way_a_provider_would_send() -> None:
    lines: list[str] = []
    console = ConsoleSender(write=lines.append, whatsapp_content_sids=CONTENT_SIDS)

    console.send(OUTSIDE_WINDOW)
    console.send(replace(OUTSIDE_WINDOW, template="final_notice"))
    console.send(replace(OUTSIDE_WINDOW, free_form_allowed=True))

    assert f"approved template overdue.es {OVERDUE_ES}" in lines[0]
    assert "no approved template final_notice.es" in lines[1]
    assert "free form" in lines[2]


@pytest.mark.parametrize(
    ("wrote_ago", "allowed"),
    [
        (None, False),  # never wrote: only a template may open the conversation
        (timedelta(minutes=5), True),
        (timedelta(hours=23), True),
        (timedelta(hours=23, minutes=55), False),  # too close to the end to send in time
        (timedelta(hours=25), False),
    ],
)
def test_free_form_is_allowed_within_24_hours_of_the_customer_s_message(
    wrote_ago: timedelta | None, allowed: bool
) -> None:
    now = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
    last = None if wrote_ago is None else now - wrote_ago
    assert whatsapp_free_form_allowed(last, now) is allowed
