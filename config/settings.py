"""Every knob of the product, read once from the environment (prefix ``DUNNING_``) or ``.env``."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.reports.channel_costs import DEFAULT_CHANNEL_PRICES

SEARCH_ATTRIBUTES: dict[str, str] = {
    # Ids and stages only: search attributes are never encrypted, so no personal data here.
    "DunningCustomerId": "Keyword",
    "DunningSegment": "Keyword",
    "DunningStage": "Keyword",
    "DunningAmountDueMinor": "Int",
    "DunningDueDate": "Datetime",
}


_CONTENT_KEY = re.compile(r"[a-z][a-z0-9_]*\.[a-z]{2}")
_CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")


_TEMPORAL_TLS_FILES = ("temporal_tls_cert_path", "temporal_tls_key_path", "temporal_tls_ca_path")


def _env_name(field: str) -> str:
    return f"DUNNING_{field.upper()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DUNNING_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path(".dunning")
    database_url: str = ""
    """SQLAlchemy URL; empty means the embedded SQLite file ``<data_dir>/ledger.db``."""

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "dunning"
    temporal_ui_port: int = 8233
    temporal_tls: bool = Field(
        default=False,
        description="Connect to Temporal over TLS. Turns itself on when any temporal_tls_* "
        "setting or temporal_api_key is set; alone, the server is verified against the system "
        "roots and the address's host (Temporal Cloud).",
    )
    temporal_tls_cert_path: str = Field(
        default="", description="Client certificate (PEM) for mTLS; with temporal_tls_key_path."
    )
    temporal_tls_key_path: str = Field(
        default="", description="The client certificate's private key (PEM)."
    )
    temporal_tls_ca_path: str = Field(
        default="",
        description="CA (PEM) that signed the server's certificate; empty = the system roots.",
    )
    temporal_tls_server_name: str = Field(
        default="",
        description="TLS server name (SNI, and the name the server certificate must carry); "
        "empty = the host of temporal_address.",
    )
    temporal_api_key: SecretStr = Field(
        default=SecretStr(""),
        description="Temporal Cloud API key (sent as a bearer token, over TLS only); the "
        "alternative to a client certificate.",
    )
    metrics_address: str = Field(
        default="",
        description="host:port where the worker serves the Temporal SDK's Prometheus metrics "
        "(/metrics), e.g. 0.0.0.0:9464; empty = no endpoint.",
    )
    payload_keys: SecretStr = Field(
        default=SecretStr(""),
        description="AES-256 keys that encrypt every Temporal payload (workflow inputs, "
        "results, signals, activity arguments): '<key id>:<base64 of 32 bytes>', comma-"
        "separated while rotating; the first encrypts, all decrypt. Make one with `python -m "
        "config.payload_keys <key id>`. Empty: one is made once into <data_dir>/payload-key "
        "(a single machine only; set it in production, the same on every worker and API).",
    )
    codec_server_cors_origins: str = Field(
        default="http://localhost:8233,http://127.0.0.1:8233",
        description="Comma-separated origins of the Temporal UI allowed to call the codec "
        "server (/codec/decode) with the user's sign-in cookie.",
    )

    company_name: str = "Comercial Andes SpA"
    portal_base_url: str = "http://localhost:8000/portal"

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"

    # Providers: with no credentials every channel is delivered to the console outbox.
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_sms_from: str = ""
    twilio_whatsapp_from: str = ""
    twilio_voice_from: str = ""
    """Caller ID of automated calls, a Twilio voice number; empty = calls go to the console."""
    whatsapp_content_sids: dict[str, str] = Field(
        default={},
        description="WhatsApp templates approved by Meta (Twilio Content API), as JSON: "
        '{"<template>.<language>": "HX…"}, e.g. {"overdue.es": "HX…", "consolidated.es": "HX…"}. '
        "Outside the 24 h after the debtor's last WhatsApp message only these may be sent.",
    )
    twilio_api_base_url: str = Field(
        default="",
        description="Override of https://api.twilio.com, for a loopback fake in tests.",
    )
    sendgrid_api_key: SecretStr = SecretStr("")
    sendgrid_host: str = "https://api.sendgrid.com"
    email_from: str = "cobranza@example.com"
    provider_timeout_seconds: float = 15.0

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = Field(
        default="http://localhost:8000",
        description="Where providers reach the API: Twilio signs the URL it called, so behind a "
        "proxy this must be the public address.",
    )
    sendgrid_webhook_public_key: str = Field(
        default="", description="SendGrid's signed event webhook verification key (base64)."
    )
    payment_webhook_secrets: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated HMAC secrets for POST /webhooks/payments (several while "
        "rotating).",
    )

    web_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Signs sign-in sessions, CSRF tokens and debtors' portal links. Several, "
        "comma-separated, while rotating: the first signs, all verify. Empty: one is made "
        "once into <data_dir>/web-secret (a single machine only; set it in production).",
    )
    session_hours: float = Field(default=10.0, description="A sign-in lasts this long.")
    portal_link_days: int = Field(
        default=30, description="A portal link in a message opens the portal for this long."
    )
    login_failures_before_lockout: int = 5
    lockout_minutes: int = 15
    login_attempts_per_minute: int = Field(
        default=10, description="Sign-in attempts one address may make in a minute."
    )
    payment_link_provider: Literal["bank_transfer", "mercadopago"] = Field(
        default="bank_transfer",
        description="What the portal's pay button does: show the company's bank-transfer "
        "instructions, or open a Mercado Pago Checkout Pro link.",
    )
    bank_name: str = "Banco de Chile"
    bank_account_holder: str = "Comercial Andes SpA"
    bank_account_tax_id: str = "76.086.428-5"
    bank_account_type: str = "Cuenta corriente"
    bank_account_number: str = "00-123-45678-09"
    bank_transfer_email: str = "pagos@example.com"
    mercadopago_access_token: SecretStr = SecretStr("")
    mercadopago_api_base_url: str = Field(
        default="", description="Override of https://api.mercadopago.com, for a loopback fake."
    )

    channel_prices: dict[str, dict[str, Decimal]] = Field(
        default_factory=lambda: {c: dict(p) for c, p in DEFAULT_CHANNEL_PRICES.items()},
        description="What one message costs, by currency and channel, as JSON: "
        '{"CLP": {"email": "1", "sms": "75", "whatsapp": "30", "voice": "150"}, …}. The '
        "channel-cost report and the simulator price contacts with it.",
    )

    activity_threads: int = Field(
        default=16, description="Threads for the providers' blocking SDK calls in one worker."
    )
    activity_concurrency: int = Field(
        default=100,
        description="Activities one worker runs at once. They wait on the ledger writer and "
        "the provider threads, not on a thread each, so this may exceed activity_threads.",
    )
    max_cached_workflows: int = Field(
        default=1000,
        ge=0,
        description="Workflows one worker keeps in memory between tasks (the sticky cache); "
        "a task of one not cached replays its history first. Raise with the pod's memory.",
    )
    workflow_task_concurrency: int = Field(
        default=100,
        ge=1,
        description="Workflow tasks one worker runs at once (max_concurrent_workflow_tasks).",
    )
    relax_contact_windows: bool = Field(
        default=False,
        description="Demos and tests only: contact at any hour. Never in production.",
    )

    @field_validator("whatsapp_content_sids")
    @classmethod
    def _content_sids_are_well_formed(cls, sids: dict[str, str]) -> dict[str, str]:
        # A typo here would only show when a debtor's window is closed; fail at start instead.
        for key, sid in sids.items():
            if not _CONTENT_KEY.fullmatch(key):
                raise ValueError(f"{key!r} is not '<template>.<language>', e.g. 'overdue.es'")
            if not _CONTENT_SID.fullmatch(sid):
                raise ValueError(f"{key!r}: {sid!r} is not a Twilio Content SID (HX + 32 hex)")
        return sids

    @model_validator(mode="after")
    def _temporal_tls_is_usable(self) -> Settings:
        # A half-configured mTLS would only fail at the handshake, far from its cause.
        cert, key = self.temporal_tls_cert_path, self.temporal_tls_key_path
        if bool(cert) != bool(key):
            raise ValueError(
                "DUNNING_TEMPORAL_TLS_CERT_PATH and DUNNING_TEMPORAL_TLS_KEY_PATH go together: "
                "set both (mTLS) or neither"
            )
        for name in _TEMPORAL_TLS_FILES:
            path = getattr(self, name)
            if path and not Path(path).is_file():
                raise ValueError(f"{_env_name(name)}: no such file: {path}")
        wanted_by = [
            _env_name(name)
            for name in (*_TEMPORAL_TLS_FILES, "temporal_tls_server_name")
            if getattr(self, name)
        ]
        if self.temporal_api_key.get_secret_value():
            wanted_by.append(_env_name("temporal_api_key"))
        if wanted_by and not self.temporal_tls:
            if "temporal_tls" in self.model_fields_set:
                # An API key over plaintext would hand it to anyone on the path.
                raise ValueError(
                    f"DUNNING_TEMPORAL_TLS is false but {', '.join(wanted_by)} needs TLS: "
                    "unset DUNNING_TEMPORAL_TLS or set it to true"
                )
            self.temporal_tls = True
        return self

    @property
    def ledger_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ledger.db').as_posix()}"

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token.get_secret_value())

    @property
    def sendgrid_configured(self) -> bool:
        return bool(self.sendgrid_api_key.get_secret_value())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
