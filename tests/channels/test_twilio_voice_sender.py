"""TwilioVoiceSender driving the real twilio SDK against the loopback fake."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from activities.channels.base import DeliveryDeferred, DeliveryRejected, OutboundMessage
from activities.channels.twilio_voice import (
    ADDRESS_INVALID_CODES,
    TwilioVoiceSender,
    say_language,
)
from tests.fakes.provider_server import (
    TWILIO_CALLS_PATH,
    FakeProviderServer,
    provider_server,
    twilio_call,
    twilio_error,
)

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-test-token"
VOICE_FROM = "+15005550006"
CUSTOMER = "+56912345678"
CALLS_PATH = f"/2010-04-01/Accounts/{SID}/Calls.json"
SCRIPT = "Le habla Comercial Andes SpA. Este es un mensaje automático para María José Pérez."


@pytest.fixture
def fake() -> Iterator[FakeProviderServer]:
    yield from provider_server()


def make_sender(
    fake: FakeProviderServer, timeout: float = 5.0, status_callback: str = ""
) -> TwilioVoiceSender:
    return TwilioVoiceSender(
        SID,
        TOKEN,
        VOICE_FROM,
        api_base_url=fake.url,
        timeout=timeout,
        status_callback=status_callback,
    )


def call(body: str = SCRIPT, locale: str = "es_CL", channel: str = "voice") -> OutboundMessage:
    return OutboundMessage(
        idempotency_key="invoice-1001:overdue_3:voice",
        channel=channel,  # type: ignore[arg-type]
        recipient=CUSTOMER,
        subject=None,
        body=body,
        template="overdue",
        locale=locale,
    )


def say(twiml: str) -> ET.Element:
    response = ET.fromstring(twiml)
    assert response.tag == "Response"
    [element] = response.findall("Say")
    return element


def test_a_call_sends_to_from_and_twiml_that_reads_the_script(fake: FakeProviderServer) -> None:
    sid = make_sender(fake).send(call())

    assert sid.startswith("CA") and len(sid) == 34
    [request] = fake.requests
    assert (request.method, request.path) == ("POST", CALLS_PATH)
    assert (request.body["To"], request.body["From"]) == (CUSTOMER, VOICE_FROM)
    assert "StatusCallback" not in request.body
    element = say(request.body["Twiml"])
    assert element.text == SCRIPT
    assert element.attrib == {"language": "es-MX", "voice": "Polly.Mia-Neural"}
    # A pause first, so the debtor's "¿aló?" does not talk over the first words.
    assert [child.tag for child in ET.fromstring(request.body["Twiml"])] == ["Pause", "Say"]
    scheme, credentials = (request.header("Authorization") or "").split(" ", 1)
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode() == f"{SID}:{TOKEN}"


def test_the_script_is_escaped_for_xml(fake: FakeProviderServer) -> None:
    text = 'Andes & Cía <Ltda> "SpA" \x07debe $1.250.000'

    make_sender(fake).send(call(text))

    [request] = fake.requests
    twiml = request.body["Twiml"]
    assert "Andes &amp; Cía &lt;Ltda&gt;" in twiml and "<Ltda>" not in twiml
    # A control character XML cannot carry is dropped, not sent to break the document.
    assert say(twiml).text == 'Andes & Cía <Ltda> "SpA" debe $1.250.000'


@pytest.mark.parametrize(
    ("locale", "language", "voice"),
    [
        ("es_CL", "es-MX", "Polly.Mia-Neural"),
        ("es_MX", "es-MX", "Polly.Mia-Neural"),
        ("es-US", "es-US", "Polly.Lupe-Neural"),
        ("es", "es-MX", "Polly.Mia-Neural"),
        ("en_US", "en-US", "Polly.Joanna-Neural"),
        ("en_GB", "en-GB", "Polly.Amy-Neural"),
        ("en", "en-US", "Polly.Joanna-Neural"),
        ("pt_BR", "es-MX", "Polly.Mia-Neural"),  # no templates in Portuguese: Spanish
    ],
)
def test_the_voice_speaks_the_debtor_s_language(
    fake: FakeProviderServer, locale: str, language: str, voice: str
) -> None:
    assert say_language(locale) == language

    make_sender(fake).send(call(locale=locale))

    [request] = fake.requests
    assert say(request.body["Twiml"]).attrib == {"language": language, "voice": voice}


def test_the_call_sid_twilio_returns_is_the_message_id(fake: FakeProviderServer) -> None:
    fake.script(
        "POST",
        TWILIO_CALLS_PATH,
        [(201, twilio_call(SID, CUSTOMER, VOICE_FROM, "CA" + "c" * 32), {})],
    )

    assert make_sender(fake).send(call()) == "CA" + "c" * 32


@pytest.mark.parametrize(
    ("code", "status", "text", "address_invalid"),
    [
        (13223, 400, "Dial: Invalid phone number format", True),
        (13224, 400, "Dial: Twilio does not support calling this number", True),
        (21211, 400, "Invalid 'To' Phone Number", True),
        (21217, 400, "Phone number does not appear to be valid", True),
        (21215, 400, "Geo Permission configuration is not permitting call", False),
        (21216, 400, "Call blocked by Twilio blocklist", False),
        (13227, 400, "Dial: No International Authorization", False),
        (21210, 400, "'From' phone number not verified", False),
        (20003, 401, "Authenticate", False),
        (21205, 400, "Url is not a valid URL", False),  # any other 4xx is permanent too
    ],
)
def test_permanent_errors_are_rejected_and_say_whether_the_number_is_bad(
    fake: FakeProviderServer, code: int, status: int, text: str, address_invalid: bool
) -> None:
    fake.script("POST", TWILIO_CALLS_PATH, [(status, twilio_error(code, text, status), {})])

    with pytest.raises(DeliveryRejected) as rejected:
        make_sender(fake).send(call())

    assert rejected.value.code == f"twilio_{code}"
    assert text in rejected.value.reason
    assert (rejected.value.code in ADDRESS_INVALID_CODES) is address_invalid


@pytest.mark.parametrize(("code", "status"), [(20429, 429), (20500, 500), (20503, 503)])
def test_transient_errors_are_deferred_and_the_retry_calls(
    fake: FakeProviderServer, code: int, status: int
) -> None:
    fake.script(
        "POST",
        TWILIO_CALLS_PATH,
        [
            (status, twilio_error(code, "busy", status), {}),
            (201, twilio_call(SID, CUSTOMER, VOICE_FROM, "CA" + "d" * 32), {}),
        ],
    )
    sender = make_sender(fake)

    with pytest.raises(DeliveryDeferred) as deferred:
        sender.send(call())
    assert deferred.value.code == f"twilio_{code}"
    assert sender.send(call()) == "CA" + "d" * 32


def test_a_slow_provider_times_out_as_deferred(fake: FakeProviderServer) -> None:
    fake.script("POST", TWILIO_CALLS_PATH, [(201, {"sid": "CAlate"}, {})], delay=5.0)

    with pytest.raises(DeliveryDeferred) as deferred:
        make_sender(fake, timeout=0.2).send(call())

    assert deferred.value.code == "twilio_timeout"


def test_an_unreachable_provider_is_deferred() -> None:
    with FakeProviderServer() as gone:
        url = gone.url
    sender = TwilioVoiceSender(SID, TOKEN, VOICE_FROM, api_base_url=url, timeout=2.0)

    with pytest.raises(DeliveryDeferred) as deferred:
        sender.send(call())

    assert deferred.value.code == "twilio_connection"


def test_a_status_callback_is_passed_when_configured(fake: FakeProviderServer) -> None:
    callback = "https://cobranza.example.cl/webhooks/twilio/voice-status"

    make_sender(fake, status_callback=callback).send(call())

    [request] = fake.requests
    assert request.body["StatusCallback"] == callback


def test_no_caller_number_is_rejected_without_a_request(fake: FakeProviderServer) -> None:
    sender = TwilioVoiceSender(SID, TOKEN, "", api_base_url=fake.url)

    with pytest.raises(DeliveryRejected) as rejected:
        sender.send(call())

    assert rejected.value.code == "twilio_no_sender"
    assert fake.requests == []


def test_only_voice_messages_are_calls(fake: FakeProviderServer) -> None:
    with pytest.raises(ValueError, match="sms"):
        make_sender(fake).send(call(channel="sms"))
    assert fake.requests == []
