"""The codec server the Temporal UI calls: ops and admins (a workspace sign-in or an API key)
get payloads decrypted; everyone else gets 401 or 403; the UI's origin gets CORS headers with
credentials, other origins none."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker
from structlog.testing import capture_logs
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from api.app import create_app
from api.auth import ROLES, create_key
from api.codec import EncryptionCodec
from config.payload_keys import new_key_entry, parse_payload_keys
from config.settings import Settings
from ledger.db import create_ledger_engine, make_session_factory
from tests.ledger_support import sqlite_url
from tests.web.sessions import sign_in_as, test_user

UI = "https://temporal-ui.example.cl"
EMAIL = "pagos@zuniga-unica.cl"
KEYS = new_key_entry("k2026")


@dataclass
class CodecServer:
    http: httpx.AsyncClient
    sessions: sessionmaker[Session]
    settings: Settings
    api_keys: dict[str, str]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[CodecServer]:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        payload_keys=SecretStr(KEYS),
        codec_server_cors_origins=f"{UI}, http://localhost:8233",
    )
    engine = create_ledger_engine(sqlite_url(tmp_path))
    sessions = make_session_factory(engine)
    api_keys = {role: create_key(sessions, role=role, name=role).key for role in ROLES}
    app = create_app(settings, sessions, client=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.example.cl") as http:
        yield CodecServer(http, sessions, settings, api_keys)
    engine.dispose()


def as_json(payloads: list[Payload]) -> dict[str, Any]:
    """The UI's wire format: bytes as base64 strings."""
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


def from_json(body: dict[str, Any]) -> list[Payload]:
    return [
        Payload(
            metadata={k: base64.b64decode(v) for k, v in p.get("metadata", {}).items()},
            data=base64.b64decode(p.get("data", "")),
        )
        for p in body["payloads"]
    ]


def plain(value: object) -> Payload:
    (payload,) = pydantic_data_converter.payload_converter.to_payloads([value])
    return payload


async def encrypted(value: object) -> Payload:
    (payload,) = await EncryptionCodec(parse_payload_keys(KEYS)).encode([plain(value)])
    return payload


def ui_headers(**extra: str) -> dict[str, str]:
    return {"Origin": UI, "X-Namespace": "default", **extra}


@pytest.mark.parametrize("role", ["ops", "admin"])
async def test_ops_and_admin_api_keys_decode(server: CodecServer, role: str) -> None:
    sealed = await encrypted({"email": EMAIL})
    answer = await server.http.post(
        "/codec/decode",
        json=as_json([sealed, plain("as it was")]),
        headers=ui_headers(Authorization=f"Bearer {server.api_keys[role]}"),
    )
    assert answer.status_code == 200, answer.text
    assert from_json(answer.json()) == [plain({"email": EMAIL}), plain("as it was")]
    assert answer.headers["access-control-allow-origin"] == UI
    assert answer.headers["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize("role", ["ops", "admin"])
async def test_a_signed_in_ops_or_admin_user_decodes_with_the_session_cookie(
    server: CodecServer, role: str
) -> None:
    sign_in_as(server.http, server.settings, test_user(role), server.sessions)
    sealed = await encrypted(EMAIL)
    answer = await server.http.post("/codec/decode", json=as_json([sealed]), headers=ui_headers())
    assert answer.status_code == 200, answer.text
    assert from_json(answer.json()) == [plain(EMAIL)]


@pytest.mark.parametrize("role", ["erp", "collector"])
async def test_other_api_keys_are_refused(server: CodecServer, role: str) -> None:
    answer = await server.http.post(
        "/codec/decode",
        json=as_json([await encrypted(EMAIL)]),
        headers=ui_headers(Authorization=f"Bearer {server.api_keys[role]}"),
    )
    assert answer.status_code == 403
    assert EMAIL not in answer.text
    # The UI can read the refusal (and tell the user) only with the CORS headers on it.
    assert answer.headers["access-control-allow-origin"] == UI


async def test_a_signed_in_collector_is_refused(server: CodecServer) -> None:
    sign_in_as(server.http, server.settings, test_user("collector"), server.sessions)
    answer = await server.http.post(
        "/codec/decode", json=as_json([await encrypted(EMAIL)]), headers=ui_headers()
    )
    assert answer.status_code == 403
    assert EMAIL not in answer.text


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer dk_nope_nope"}, {"Cookie": "dunning_session=forged.value"}],
    ids=["nothing", "unknown key", "forged cookie"],
)
async def test_no_credentials_is_401(server: CodecServer, headers: dict[str, str]) -> None:
    answer = await server.http.post(
        "/codec/decode", json=as_json([await encrypted(EMAIL)]), headers=ui_headers(**headers)
    )
    assert answer.status_code == 401
    assert EMAIL not in answer.text
    assert answer.headers["access-control-allow-origin"] == UI


async def test_encode_gives_ciphertext_the_codec_reads(server: CodecServer) -> None:
    answer = await server.http.post(
        "/codec/encode",
        json=as_json([plain(EMAIL)]),
        headers=ui_headers(Authorization=f"Bearer {server.api_keys['ops']}"),
    )
    assert answer.status_code == 200, answer.text
    (sealed,) = from_json(answer.json())
    assert sealed.metadata["encryption-key-id"] == b"k2026"
    assert EMAIL.encode() not in sealed.data
    assert await EncryptionCodec(parse_payload_keys(KEYS)).decode([sealed]) == [plain(EMAIL)]


async def test_a_payload_under_an_unknown_key_is_a_400_naming_the_key(
    server: CodecServer,
) -> None:
    (foreign,) = await EncryptionCodec(parse_payload_keys(new_key_entry("k1999"))).encode(
        [plain(EMAIL)]
    )
    answer = await server.http.post(
        "/codec/decode",
        json=as_json([foreign]),
        headers=ui_headers(Authorization=f"Bearer {server.api_keys['ops']}"),
    )
    assert answer.status_code == 400
    assert "k1999" in answer.json()["detail"]["message"]


@pytest.mark.parametrize(
    "junk", ["%%%", "ñandú", "a"], ids=["symbols", "non-ascii", "one character"]
)
async def test_invalid_base64_is_a_400(server: CodecServer, junk: str) -> None:
    answer = await server.http.post(
        "/codec/decode",
        json={"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": junk}]},
        headers=ui_headers(Authorization=f"Bearer {server.api_keys['ops']}"),
    )
    assert answer.status_code == 400
    assert answer.json()["detail"]["field"] == "payloads"


async def test_the_ui_origin_passes_the_preflight(server: CodecServer) -> None:
    answer = await server.http.options(
        "/codec/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == UI
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed = answer.headers["access-control-allow-headers"].lower()
    assert "x-namespace" in allowed and "content-type" in allowed


async def test_another_origin_gets_no_cors_headers(server: CodecServer) -> None:
    evil = "https://evil.example.com"
    preflight = await server.http.options(
        "/codec/decode", headers={"Origin": evil, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    answer = await server.http.post(
        "/codec/decode",
        json=as_json([plain(EMAIL)]),
        headers={"Origin": evil, "Authorization": f"Bearer {server.api_keys['ops']}"},
    )
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-credentials" not in answer.headers


async def test_each_use_is_logged_with_who_and_which_namespace_never_the_content(
    server: CodecServer,
) -> None:
    sign_in_as(server.http, server.settings, test_user("ops"), server.sessions)
    with capture_logs() as logs:
        answer = await server.http.post(
            "/codec/decode",
            json=as_json([await encrypted(EMAIL)]),
            headers={"Origin": UI, "X-Namespace": "cobranza-prod"},
        )
    assert answer.status_code == 200
    (line,) = [entry for entry in logs if entry["event"] == "codec server used"]
    assert dict(line) == {
        "event": "codec server used",
        "operation": "decode",
        "by": "user u-ops",
        "namespace": "cobranza-prod",
        "payloads": 1,
        "log_level": "info",
    }
    assert EMAIL not in repr(logs)
