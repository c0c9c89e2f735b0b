"""The console outbox and the per-channel choice of sender."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from pydantic import SecretStr, ValidationError

from activities.channels.base import OutboundMessage
from activities.channels.console import ConsoleSender
from activities.channels.registry import build_senders
from activities.channels.sendgrid_email import SendGridEmailSender
from activities.channels.twilio_messaging import TwilioSender
from activities.channels.twilio_voice import TwilioVoiceSender
from config.settings import Settings
from tests.fakes.provider_server import FakeProviderServer, provider_server

SMS = OutboundMessage(
    idempotency_key="invoice-1001:reminder-1",
    channel="sms",
    recipient="+56912345678",
    subject=None,
    body="\nSu factura 1001 vence hoy.\nPague en el portal.",
    template="reminder_due",
    locale="es-CL",
)
EMAIL = OutboundMessage(
    idempotency_key="invoice-1001:reminder-2",
    channel="email",
    recipient="pagos@cliente.cl",
    subject="Factura [1001] vence hoy",
    body="Estimado cliente",
    template="reminder_due",
    locale="es-CL",
)


@pytest.fixture
def fake() -> Iterator[FakeProviderServer]:
    yield from provider_server()


def settings(**overrides: object) -> Settings:
    # Explicit values for every provider knob, so a developer's environment or .env cannot leak in.
    values: dict[str, object] = {
        "twilio_account_sid": "",
        "twilio_auth_token": SecretStr(""),
        "twilio_sms_from": "",
        "twilio_whatsapp_from": "",
        "twilio_voice_from": "",
        "whatsapp_content_sids": {},
        "twilio_api_base_url": "",
        "sendgrid_api_key": SecretStr(""),
        "sendgrid_host": "https://api.sendgrid.com",
        "email_from": "cobranza@example.com",
        "provider_timeout_seconds": 5.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_console_writes_one_line_and_returns_a_deterministic_id() -> None:
    lines: list[str] = []
    sender = ConsoleSender(write=lines.append)

    first = sender.send(SMS)

    assert first == sender.send(SMS)
    assert first.startswith("console-")
    assert sender.send(EMAIL) != first
    assert len(lines) == 3
    assert "sms" in lines[0] and "+56912345678" in lines[0]
    assert "Su factura 1001 vence hoy." in lines[0] and "Pague" not in lines[0]
    assert "email" in lines[2] and "Factura [1001] vence hoy" in lines[2]


def test_console_default_writer_prints_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleSender().send(EMAIL)

    captured = capsys.readouterr()
    assert captured.out == ""
    # markup=False: the bracketed text is user content, printed verbatim.
    assert "Factura [1001] vence hoy" in captured.err


def test_no_credentials_means_console_everywhere() -> None:
    senders = build_senders(settings())

    assert set(senders) == {"email", "sms", "whatsapp", "voice"}
    assert all(isinstance(s, ConsoleSender) for s in senders.values())
    assert {s.provider for s in senders.values()} == {"console"}


def test_credentials_select_the_real_providers() -> None:
    senders = build_senders(
        settings(
            twilio_account_sid="AC0123456789abcdef0123456789abcdef",
            twilio_auth_token=SecretStr("token"),
            twilio_sms_from="+15005550006",
            twilio_whatsapp_from="+14155238886",
            sendgrid_api_key=SecretStr("SG.key"),
        )
    )

    assert isinstance(senders["email"], SendGridEmailSender)
    assert isinstance(senders["sms"], TwilioSender)
    assert senders["whatsapp"] is senders["sms"]
    assert [senders[c].provider for c in ("email", "sms", "whatsapp")] == [
        "sendgrid",
        "twilio",
        "twilio",
    ]


def test_twilio_channel_without_its_sender_number_stays_on_console() -> None:
    senders = build_senders(
        settings(
            twilio_account_sid="AC0123456789abcdef0123456789abcdef",
            twilio_auth_token=SecretStr("token"),
            twilio_sms_from="+15005550006",
        )
    )

    assert senders["sms"].provider == "twilio"
    assert senders["whatsapp"].provider == "console"
    assert senders["email"].provider == "console"


def test_configured_senders_reach_the_configured_hosts(fake: FakeProviderServer) -> None:
    senders = build_senders(
        settings(
            twilio_account_sid="AC0123456789abcdef0123456789abcdef",
            twilio_auth_token=SecretStr("token"),
            twilio_sms_from="+15005550006",
            twilio_api_base_url=fake.url,
            sendgrid_api_key=SecretStr("SG.key"),
            sendgrid_host=fake.url,
            company_name="Comercial Andes SpA",
        )
    )

    assert senders["sms"].send(SMS).startswith("SM")
    senders["email"].send(EMAIL)

    sms_request, email_request = fake.requests
    assert sms_request.body["From"] == "+15005550006"
    assert email_request.body["from"] == {
        "email": "cobranza@example.com",
        "name": "Comercial Andes SpA",
    }


CALL = OutboundMessage(
    idempotency_key="invoice-1001:reminder-3:voice",
    channel="voice",
    recipient="+56912345678",
    subject=None,
    body="Le habla Comercial Andes SpA. Este es un mensaje automático para María José Pérez.",
    template="overdue",
    locale="es-CL",
)
TWILIO = {
    "twilio_account_sid": "AC0123456789abcdef0123456789abcdef",
    "twilio_auth_token": SecretStr("token"),
}


def test_the_console_prints_a_call_too() -> None:
    lines: list[str] = []

    ConsoleSender(write=lines.append).send(CALL)

    [line] = lines
    assert "voice → +56912345678" in line and "Le habla Comercial Andes SpA." in line


def test_a_voice_number_selects_twilio_calls() -> None:
    senders = build_senders(settings(**TWILIO, twilio_voice_from="+15005550006"))

    assert isinstance(senders["voice"], TwilioVoiceSender)
    assert senders["voice"].provider == "twilio" and senders["voice"].blocking
    assert senders["sms"].provider == "console"  # no SMS number: calls only


@pytest.mark.parametrize(
    "overrides",
    [
        {**TWILIO, "twilio_sms_from": "+15005550006", "twilio_whatsapp_from": "+14155238886"},
        {"twilio_voice_from": "+15005550006"},  # a number without an account
    ],
)
def test_calls_stay_on_the_console_without_account_and_voice_number(
    overrides: dict[str, object],
) -> None:
    assert isinstance(build_senders(settings(**overrides))["voice"], ConsoleSender)


def test_a_configured_voice_sender_reaches_the_configured_host(fake: FakeProviderServer) -> None:
    senders = build_senders(
        settings(**TWILIO, twilio_voice_from="+15005550006", twilio_api_base_url=fake.url)
    )

    assert senders["voice"].send(CALL).startswith("CA")
    [request] = fake.requests
    assert request.path.endswith("/Calls.json")
    assert request.body["From"] == "+15005550006"


def test_whatsapp_content_sids_reach_the_twilio_sender(fake: FakeProviderServer) -> None:
    content_sid = "HX" + "a" * 32
    senders = build_senders(
        settings(
            **TWILIO,
            twilio_whatsapp_from="+14155238886",
            twilio_api_base_url=fake.url,
            whatsapp_content_sids={"overdue.es": content_sid},
        )
    )
    whatsapp = replace(
        CALL, channel="whatsapp", free_form_allowed=False, template_variables=(("1", "x"),)
    )

    senders["whatsapp"].send(whatsapp)

    [request] = fake.requests
    assert request.body["ContentSid"] == content_sid


def test_whatsapp_content_sids_are_read_from_json_and_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    content_sid = "HX" + "b" * 32
    monkeypatch.setenv(
        "DUNNING_WHATSAPP_CONTENT_SIDS",
        f'{{"overdue.es": "{content_sid}", "consolidated.es": "{content_sid}"}}',
    )
    assert Settings(_env_file=None).whatsapp_content_sids == {
        "overdue.es": content_sid,
        "consolidated.es": content_sid,
    }
    for wrong in ('{"overdue": "HX1"}', f'{{"overdue.es": "SM{"b" * 32}"}}'):
        monkeypatch.setenv("DUNNING_WHATSAPP_CONTENT_SIDS", wrong)
        with pytest.raises(ValidationError):
            Settings(_env_file=None)
