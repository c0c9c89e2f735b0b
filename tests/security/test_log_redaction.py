"""Secrets never reach a log line: the settings object, a request with an API key, a stdlib
record from Temporal's or httpx's loggers, an exception that quotes a key."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import structlog
from pydantic import SecretStr

from config.logging import configure_logging, redact
from config.settings import Settings

API_KEY = "dk_abc123_SECRETKEY-part_2"
SETTINGS_SECRETS = {
    "twilio_auth_token": "tw-SECRET-123",
    "sendgrid_api_key": "SG.SECRET-sendgrid",
    "web_secret": "web-SECRET-456",
    "payment_webhook_secrets": "hook-SECRET-1,hook-SECRET-2",
    "mercadopago_access_token": "APP_USR-SECRET-mp",
    "temporal_api_key": "tmprl-SECRET-cloud-key",
    # '<key id>:<base64 of 32 bytes>', two while rotating.
    "payload_keys": "k2:cGF5bG9hZC1TRUNSRVQtMzItYnl0ZXMtbG9uZyEhISE=,"
    "k1:b2xkLXBheWxvYWQta2V5LVNFQ1JFVC0zMi1ieXRlcyE=",
}
LEDGER_PASSWORD = "ledger-PASSWORD-789"
ALL_SECRETS = [
    *(part for value in SETTINGS_SECRETS.values() for part in value.split(",")),
    LEDGER_PASSWORD,
    "SECRETKEY",
    "session-SECRET-cookie",
]


@dataclass
class Credentials:
    user: str
    pin: SecretStr
    note: str


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO", fmt="json")
    capsys.readouterr()
    yield capsys
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def settings_with_secrets() -> Settings:
    # SecretStr fields are set as SecretStr (what pydantic-settings makes from the env).
    secrets = {name: SecretStr(value) for name, value in SETTINGS_SECRETS.items()}
    return Settings(
        _env_file=None,
        company_name="Ferretería Los Andes SpA",
        database_url=f"postgresql+psycopg://dunning:{LEDGER_PASSWORD}@db:5432/dunning",
        **secrets,  # type: ignore[arg-type]
    )


def test_every_secret_setting_is_covered() -> None:
    secret_fields = {
        name for name, field in Settings.model_fields.items() if field.annotation is SecretStr
    }
    assert secret_fields == set(SETTINGS_SECRETS), "add the new secret setting to this test"


def test_settings_request_and_message_keep_no_secret(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    log = structlog.get_logger()
    log.info("settings loaded", settings=settings_with_secrets())
    log.info(
        "request received",
        request={
            "method": "POST",
            "path": "/invoices",
            "headers": {
                "authorization": f"Bearer {API_KEY}",
                "Cookie": "dunning_session=session-SECRET-cookie",
                "x-request-id": "req-42",
            },
        },
    )
    log.warning(f"rejected key {API_KEY} for /payments")
    log.info("caller", twilio_auth_token="tw-SECRET-123", nested=[{"password": LEDGER_PASSWORD}])

    output = json_logs.readouterr().err
    for secret in ALL_SECRETS:
        assert secret not in output, f"{secret} reached the log:\n{output}"

    settings_line, request_line, message_line, caller_line = lines(output)
    logged_settings = settings_line["settings"]
    assert isinstance(logged_settings, dict)
    assert logged_settings["company_name"] == "Ferretería Los Andes SpA"
    assert logged_settings["task_queue"] == "dunning"
    assert logged_settings["database_url"] == "postgresql+psycopg://dunning:***@db:5432/dunning"
    assert request_line["request"] == {
        "method": "POST",
        "path": "/invoices",
        "headers": {"authorization": "***", "Cookie": "***", "x-request-id": "req-42"},
    }
    # The key's id stays, so the line still says which key it was.
    assert message_line["event"] == "rejected key dk_abc123_*** for /payments"
    assert caller_line["twilio_auth_token"] == "***"
    assert caller_line["nested"] == [{"password": "***"}]


def test_stdlib_records_are_redacted_too(json_logs: pytest.CaptureFixture[str]) -> None:
    # Temporal's and httpx's loggers are stdlib loggers: they share the handler.
    logging.getLogger("temporalio.worker").warning(
        "HTTP Request: POST %s %s",
        "https://api.example.com/hook?token=tok-SECRET-q&invoice=F-1001",
        {"Authorization": f"Bearer {API_KEY}"},
    )
    output = json_logs.readouterr().err
    assert "SECRETKEY" not in output and "tok-SECRET-q" not in output, output
    (line,) = lines(output)
    assert line["level"] == "warning"
    assert "invoice=F-1001" in str(line["event"])
    assert "token=***" in str(line["event"])


def test_a_traceback_that_quotes_a_key_is_redacted(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    log = structlog.get_logger()
    try:
        raise ValueError(f"provider refused Authorization: Bearer {API_KEY}")
    except ValueError:
        log.exception("send failed", idempotency_key="F-1001:step-2:email")
    try:
        raise RuntimeError(f"cannot connect to postgresql://dunning:{LEDGER_PASSWORD}@db/dunning")
    except RuntimeError:
        logging.getLogger("sqlalchemy.pool").exception("pool error")
    output = json_logs.readouterr().err
    assert "SECRETKEY" not in output and LEDGER_PASSWORD not in output, output
    first, second = lines(output)
    assert "ValueError" in str(first["exception"])
    assert first["idempotency_key"] == "F-1001:step-2:email", "not a secret: keep it"
    assert "RuntimeError" in str(second["exception"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Basic dXNlcjpwYXNz", "Basic ***"),
        ("https://u:p4ss@host/x", "https://u:***@host/x"),
        ("no secret in here: F-1001, 150000 CLP", "no secret in here: F-1001, 150000 CLP"),
        ("CSRF token mismatch on a basic form", "CSRF token mismatch on a basic form"),
        ({"api-key": "x", "event_key": "delivered"}, {"api-key": "***", "event_key": "delivered"}),
        (
            {"private_key": "x", "key": "y", "key_id": "abc"},
            {"private_key": "***", "key": "***", "key_id": "abc"},
        ),
        ((SecretStr("s"), b"Bearer abc"), ["***", "Bearer ***"]),
        (
            Credentials("ana", SecretStr("s"), "dk_k1_abc"),
            {"user": "ana", "pin": "***", "note": "dk_k1_***"},
        ),
    ],
)
def test_redact_values(value: object, expected: object) -> None:
    assert redact(value) == expected


def test_console_output_is_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("INFO", fmt="console")
        log = structlog.get_logger()
        log.info("settings loaded", settings=settings_with_secrets())
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed", authorization=f"Bearer {API_KEY}")
        logging.getLogger("httpx").warning("POST %s", f"https://x/?api_key={API_KEY}")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()
    output = capsys.readouterr().err
    for secret in ALL_SECRETS:
        assert secret not in output, f"{secret} reached the log:\n{output}"
    assert "Ferretería Los Andes SpA" in output and "ValueError: boom" in output
