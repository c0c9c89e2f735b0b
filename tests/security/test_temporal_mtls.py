"""``api.temporal.connect`` really speaks TLS: through a TLS front (tests/security/pki.py) that
requires a client certificate from the test CA and relays to the real dev server, the product's
client completes mutual TLS and a Temporal call goes round; without its certificate, with one
from another CA, with the wrong CA or the wrong server name, the handshake is refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.testing import WorkflowEnvironment

from api.temporal import connect
from config.settings import Settings
from tests.security.pki import CLIENT_NAME, SERVER_NAME, Pki, TlsFront, make_pki
from tests.temporal_support import TEST_PAYLOAD_KEYS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
async def front(dev_server: WorkflowEnvironment, pki: Pki) -> AsyncIterator[TlsFront]:
    host, port = dev_server.client.service_client.config.target_host.rsplit(":", 1)
    async with TlsFront(pki, (host, int(port))).running() as running:
        yield running


def settings_for(front: TlsFront, pki: Pki, tmp_path: Path, **override: str) -> Settings:
    values = {
        "temporal_tls_cert_path": str(pki.client_cert),
        "temporal_tls_key_path": str(pki.client_key),
        "temporal_tls_ca_path": str(pki.ca),
        "temporal_tls_server_name": SERVER_NAME,
        **override,
    }
    return Settings(
        data_dir=tmp_path,
        temporal_address=f"127.0.0.1:{front.port}",
        payload_keys=SecretStr(TEST_PAYLOAD_KEYS),
        temporal_api_key=SecretStr("test-api-key"),
        **values,  # type: ignore[arg-type]
    )


async def test_mutual_tls_round_trip_to_a_real_server(
    front: TlsFront, pki: Pki, tmp_path: Path
) -> None:
    client = await asyncio.wait_for(connect(settings_for(front, pki, tmp_path)), 60)
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace)
    )
    assert described.namespace_info.name == client.namespace
    assert client.api_key == "test-api-key"
    assert front.handshakes, "the client never reached the TLS front"
    for handshake in front.handshakes:
        assert handshake.error is None
        assert handshake.client_subject == CLIENT_NAME, "the client certificate was not shown"
        assert handshake.server_name == SERVER_NAME


async def refused(settings: Settings) -> str:
    with pytest.raises(RuntimeError) as raised:
        await asyncio.wait_for(connect(settings), 60)
    return str(raised.value)


def every_handshake_failed(front: TlsFront, error: str) -> None:
    # With TLS 1.3 the server rejects the client's certificate after the client considers the
    # handshake done, so the client may retry: every attempt must have failed the same way.
    assert front.handshakes, "the client never reached the TLS front"
    for handshake in front.handshakes:
        assert handshake.client_subject is None
        assert error in (handshake.error or ""), handshake


async def test_without_the_client_certificate_the_server_refuses(
    front: TlsFront, pki: Pki, tmp_path: Path
) -> None:
    await refused(
        settings_for(front, pki, tmp_path, temporal_tls_cert_path="", temporal_tls_key_path="")
    )
    every_handshake_failed(front, "PEER_DID_NOT_RETURN_A_CERTIFICATE")


async def test_a_client_certificate_from_another_ca_is_refused(
    front: TlsFront, pki: Pki, tmp_path: Path
) -> None:
    rogue = make_pki(tmp_path / "rogue", ca_name="another CA")
    await refused(
        settings_for(
            front,
            pki,
            tmp_path,
            temporal_tls_cert_path=str(rogue.client_cert),
            temporal_tls_key_path=str(rogue.client_key),
        )
    )
    every_handshake_failed(front, "CERTIFICATE_VERIFY_FAILED")


async def test_the_client_refuses_a_server_its_ca_did_not_sign(
    front: TlsFront, pki: Pki, tmp_path: Path
) -> None:
    # No CA path: the system roots, which never signed the test CA.
    message = await refused(settings_for(front, pki, tmp_path, temporal_tls_ca_path=""))
    assert "UnknownIssuer" in message
    every_handshake_failed(front, "UNKNOWN_CA")


async def test_the_client_refuses_a_certificate_for_another_name(
    front: TlsFront, pki: Pki, tmp_path: Path
) -> None:
    message = await refused(
        settings_for(front, pki, tmp_path, temporal_tls_server_name="other.test")
    )
    assert "NotValidForName" in message
    every_handshake_failed(front, "BAD_CERTIFICATE")
    assert {handshake.server_name for handshake in front.handshakes} == {"other.test"}
