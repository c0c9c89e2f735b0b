"""The Temporal connection settings: TLS, mTLS and the API key read from the environment, the
``TLSConfig`` built from the PEM files, the errors of a half-done configuration, and the
metrics runtime. The handshakes themselves: tests/security/test_temporal_mtls.py."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from temporalio.service import TLSConfig

from api.temporal import metrics_runtime, tls_config
from config.settings import Settings
from tests.integration.processes import free_port
from tests.security.pki import SERVER_NAME, Pki, make_pki


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Values from the shell running the tests would change what these settings mean.
    monkeypatch.chdir(Path(__file__).parent)  # no .env
    for name in (
        "TLS",
        "TLS_CERT_PATH",
        "TLS_KEY_PATH",
        "TLS_CA_PATH",
        "TLS_SERVER_NAME",
        "API_KEY",
    ):
        monkeypatch.delenv(f"DUNNING_TEMPORAL_{name}", raising=False)
    monkeypatch.delenv("DUNNING_METRICS_ADDRESS", raising=False)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def mtls(pki: Pki, **more: object) -> Settings:
    return Settings(
        temporal_tls_cert_path=str(pki.client_cert),
        temporal_tls_key_path=str(pki.client_key),
        temporal_tls_ca_path=str(pki.ca),
        temporal_tls_server_name=SERVER_NAME,
        **more,  # type: ignore[arg-type]
    )


def test_nothing_set_is_plaintext() -> None:
    settings = Settings()
    assert settings.temporal_tls is False
    assert tls_config(settings) is False


def test_an_api_key_alone_means_tls_on_the_system_roots() -> None:
    settings = Settings(temporal_api_key=SecretStr("cloud-key"))
    assert settings.temporal_tls is True
    assert tls_config(settings) is True


def test_tls_alone_means_the_system_roots_and_the_address_host() -> None:
    assert tls_config(Settings(temporal_tls=True)) is True


def test_the_tls_config_carries_the_pem_files_and_the_server_name(pki: Pki) -> None:
    settings = mtls(pki)
    assert settings.temporal_tls is True
    config = tls_config(settings)
    assert isinstance(config, TLSConfig)
    assert config.client_cert == pki.client_cert.read_bytes()
    assert config.client_private_key == pki.client_key.read_bytes()
    assert config.server_root_ca_cert == pki.ca.read_bytes()
    assert config.domain == SERVER_NAME


def test_a_private_ca_without_a_client_certificate(pki: Pki) -> None:
    config = tls_config(Settings(temporal_tls_ca_path=str(pki.ca)))
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == pki.ca.read_bytes()
    assert config.client_cert is None and config.client_private_key is None
    assert config.domain is None, "empty server name = the address's host"


def test_the_settings_come_from_the_environment(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUNNING_TEMPORAL_TLS_CERT_PATH", str(pki.client_cert))
    monkeypatch.setenv("DUNNING_TEMPORAL_TLS_KEY_PATH", str(pki.client_key))
    monkeypatch.setenv("DUNNING_TEMPORAL_TLS_CA_PATH", str(pki.ca))
    monkeypatch.setenv("DUNNING_TEMPORAL_TLS_SERVER_NAME", SERVER_NAME)
    monkeypatch.setenv("DUNNING_TEMPORAL_API_KEY", "cloud-key")
    settings = Settings()
    assert tls_config(settings) == tls_config(mtls(pki))
    assert settings.temporal_api_key.get_secret_value() == "cloud-key"
    assert "cloud-key" not in repr(settings)


@pytest.mark.parametrize("given", ["temporal_tls_cert_path", "temporal_tls_key_path"])
def test_a_certificate_and_its_key_go_together(pki: Pki, given: str) -> None:
    path = pki.client_cert if given.endswith("cert_path") else pki.client_key
    with pytest.raises(ValidationError) as raised:
        Settings(**{given: str(path)})  # type: ignore[arg-type]
    message = str(raised.value)
    assert "DUNNING_TEMPORAL_TLS_CERT_PATH" in message
    assert "DUNNING_TEMPORAL_TLS_KEY_PATH" in message


@pytest.mark.parametrize(
    "field", ["temporal_tls_cert_path", "temporal_tls_key_path", "temporal_tls_ca_path"]
)
def test_a_missing_file_names_the_setting_and_the_path(
    pki: Pki, tmp_path: Path, field: str
) -> None:
    missing = tmp_path / "nowhere" / "file.pem"
    values = {
        "temporal_tls_cert_path": str(pki.client_cert),
        "temporal_tls_key_path": str(pki.client_key),
        field: str(missing),
    }
    with pytest.raises(ValidationError) as raised:
        Settings(**values)  # type: ignore[arg-type]
    message = str(raised.value)
    assert f"DUNNING_{field.upper()}" in message
    assert str(missing) in message


def test_tls_switched_off_explicitly_refuses_an_api_key() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(temporal_tls=False, temporal_api_key=SecretStr("cloud-key"))
    assert "DUNNING_TEMPORAL_API_KEY" in str(raised.value)
    assert "cloud-key" not in str(raised.value)


def test_a_file_that_is_not_pem_names_the_setting(pki: Pki, tmp_path: Path) -> None:
    der = tmp_path / "ca.der"
    der.write_bytes(b"\x30\x82\x01\x0a not a PEM file")
    with pytest.raises(ValueError, match=r"DUNNING_TEMPORAL_TLS_CA_PATH: .*ca\.der is not PEM"):
        tls_config(Settings(temporal_tls_ca_path=str(der)))


def test_no_metrics_address_no_runtime() -> None:
    assert metrics_runtime(Settings()) is None


def test_the_metrics_runtime_serves_prometheus_at_once() -> None:
    address = f"127.0.0.1:{free_port()}"
    runtime = metrics_runtime(Settings(metrics_address=address))
    assert runtime is not None
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
