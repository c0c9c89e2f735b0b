"""TwilioSender driving the real twilio SDK against the loopback fake."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from activities.channels.base import DeliveryDeferred, DeliveryRejected, OutboundMessage
from activities.channels.twilio_messaging import TwilioSender
from tests.fakes.provider_server import (
    TWILIO_MESSAGES_PATH,
    FakeProviderServer,
    provider_server,
    twilio_error,
    twilio_message,
)

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-test-token"
SMS_FROM = "+15005550006"
WHATSAPP_FROM = "+14155238886"
CUSTOMER = "+56912345678"
MESSAGES_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"


@pytest.fixture
def fake() -> Iterator[FakeProviderServer]:
    yield from provider_server()


def make_sender(fake: FakeProviderServer, timeout: float = 5.0) -> TwilioSender:
    return TwilioSender(SID, TOKEN, SMS_FROM, WHATSAPP_FROM, api_base_url=fake.url, timeout=timeout)


def message(channel: str = "sms", body: str = "Su factura 1001 vence hoy.") -> OutboundMessage:
    return OutboundMessage(
        idempotency_key="invoice-1001:reminder-1",
        channel=channel,  # type: ignore[arg-type]
        recipient=CUSTOMER,
        subject=None,
        body=body,
        template="reminder_due",
        locale="es-CL",
    )


def test_sms_success_sends_form_with_basic_auth(fake: FakeProviderServer) -> None:
    sid = make_sender(fake).send(message("sms"))

    assert sid.startswith("SM") and len(sid) == 34
    [request] = fake.requests
    assert (request.method, request.path) == ("POST", MESSAGES_PATH)
    assert request.body == {"To": CUSTOMER, "From": SMS_FROM, "Body": "Su factura 1001 vence hoy."}
    scheme, credentials = (request.header("Authorization") or "").split(" ", 1)
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode() == f"{SID}:{TOKEN}"


def test_whatsapp_success_prefixes_both_addresses(fake: FakeProviderServer) -> None:
    fake.script(
        "POST",
        TWILIO_MESSAGES_PATH,
        [(201, twilio_message(SID, "whatsapp:x", "whatsapp:y", "b", sid="SM" + "a" * 32), {})],
    )

    sid = make_sender(fake).send(message("whatsapp"))

    assert sid == "SM" + "a" * 32
    [request] = fake.requests
    assert request.body["To"] == f"whatsapp:{CUSTOMER}"
    assert request.body["From"] == f"whatsapp:{WHATSAPP_FROM}"


def test_server_error_is_deferred_and_the_retry_succeeds(fake: FakeProviderServer) -> None:
    fake.script(
        "POST",
        TWILIO_MESSAGES_PATH,
        [
            (500, twilio_error(20500, "Internal Server Error", 500), {}),
            (201, twilio_message(SID, CUSTOMER, SMS_FROM, "b", sid="SM" + "b" * 32), {}),
        ],
    )
    sender = make_sender(fake)

    with pytest.raises(DeliveryDeferred) as deferred:
        sender.send(message())
    assert deferred.value.code == "twilio_20500"
    assert sender.send(message()) == "SM" + "b" * 32
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("code", "status", "text"),
    [
        (21211, 400, "The 'To' number +56912345678 is not a valid phone number."),
        (21610, 400, "Attempt to send to unsubscribed recipient"),
        (21614, 400, "'To' number is not a valid mobile number"),
        (63016, 400, "Failed to send freeform message because you are outside the window."),
        (20003, 401, "Authenticate"),
        (21606, 400, "The 'From' phone number provided is not a valid message-capable number."),
        (21659, 400, "'From' is not a Twilio phone number."),
        (21602, 400, "Message body is required."),  # any other 4xx is permanent too
    ],
)
def test_permanent_errors_are_rejected_with_twilio_code(
    fake: FakeProviderServer, code: int, status: int, text: str
) -> None:
    fake.script("POST", TWILIO_MESSAGES_PATH, [(status, twilio_error(code, text, status), {})])

    with pytest.raises(DeliveryRejected) as rejected:
        make_sender(fake).send(message())

    assert rejected.value.code == f"twilio_{code}"
    assert text in rejected.value.reason


@pytest.mark.parametrize(
    ("code", "status"),
    [(20429, 429), (20500, 500), (20503, 503), (20429, 400)],
)
def test_transient_errors_are_deferred(fake: FakeProviderServer, code: int, status: int) -> None:
    fake.script("POST", TWILIO_MESSAGES_PATH, [(status, twilio_error(code, "busy", status), {})])

    with pytest.raises(DeliveryDeferred) as deferred:
        make_sender(fake).send(message())

    assert deferred.value.code == f"twilio_{code}"


def test_error_without_json_body_uses_http_status(fake: FakeProviderServer) -> None:
    fake.script("POST", TWILIO_MESSAGES_PATH, [(502, "Bad Gateway", {})])

    with pytest.raises(DeliveryDeferred) as deferred:
        make_sender(fake).send(message())

    assert deferred.value.code == "twilio_502"


def test_slow_provider_times_out_as_deferred(fake: FakeProviderServer) -> None:
    fake.script("POST", TWILIO_MESSAGES_PATH, [(201, {"sid": "SMlate"}, {})], delay=5.0)

    with pytest.raises(DeliveryDeferred) as deferred:
        make_sender(fake, timeout=0.2).send(message())

    assert deferred.value.code == "twilio_timeout"


def test_unreachable_provider_is_deferred() -> None:
    with FakeProviderServer() as gone:
        url = gone.url
    sender = TwilioSender(SID, TOKEN, SMS_FROM, WHATSAPP_FROM, api_base_url=url, timeout=2.0)

    with pytest.raises(DeliveryDeferred) as deferred:
        sender.send(message())

    assert deferred.value.code == "twilio_connection"


def test_channel_without_sender_number_is_rejected(fake: FakeProviderServer) -> None:
    sender = TwilioSender(SID, TOKEN, SMS_FROM, "", api_base_url=fake.url)

    with pytest.raises(DeliveryRejected) as rejected:
        sender.send(message("whatsapp"))

    assert rejected.value.code == "twilio_no_sender"
    assert fake.requests == []


def test_email_is_not_a_twilio_channel(fake: FakeProviderServer) -> None:
    with pytest.raises(ValueError, match="email"):
        make_sender(fake).send(message("email"))


def test_a_status_callback_asks_twilio_to_report_delivery_to_our_webhook(
    fake: FakeProviderServer,
) -> None:
    callback = "https://cobranza.example.cl/webhooks/twilio/status"
    sender = TwilioSender(
        SID, TOKEN, SMS_FROM, WHATSAPP_FROM, api_base_url=fake.url, status_callback=callback
    )
    sender.send(message("sms"))
    [request] = fake.requests
    assert request.body["StatusCallback"] == callback
