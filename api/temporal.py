"""The one way the product connects to Temporal: pydantic payloads (Decimal and date survive),
encrypted with the configured payload keys (api/codec.py), over TLS / mTLS / an API key when
configured. Every client the product makes, and so every worker, comes from here."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig

from api.codec import codec_for, encrypted_data_converter
from config.settings import Settings


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """``runtime``: the process's Temporal runtime (see ``metrics_runtime``); None = the SDK's
    default one."""
    api_key = settings.temporal_api_key.get_secret_value()
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=encrypted_data_converter(codec_for(settings)),
        tls=tls_config(settings),
        api_key=api_key or None,
        runtime=runtime,
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    """``Client.connect``'s ``tls``: False (plaintext), True (the system roots verify the
    address's host: Temporal Cloud), or a ``TLSConfig`` when a CA, a client certificate or a
    server name is set. The files are read now: a rotated certificate needs a restart."""
    if not settings.temporal_tls:
        return False
    if not (
        settings.temporal_tls_ca_path
        or settings.temporal_tls_cert_path
        or settings.temporal_tls_server_name
    ):
        return True
    return TLSConfig(
        server_root_ca_cert=_pem(settings, "temporal_tls_ca_path"),
        domain=settings.temporal_tls_server_name or None,
        client_cert=_pem(settings, "temporal_tls_cert_path"),
        client_private_key=_pem(settings, "temporal_tls_key_path"),
    )


def _pem(settings: Settings, field: str) -> bytes | None:
    path = getattr(settings, field)
    if not path:
        return None
    name = f"DUNNING_{field.upper()}"
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ValueError(f"{name}: cannot read {path}: {error.strerror}") from error
    # The core's own error for a DER file or a wrong path's content does not name the setting.
    if b"-----BEGIN " not in data:
        raise ValueError(f"{name}: {path} is not PEM (no '-----BEGIN ' line)")
    return data


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime serving the SDK's metrics for Prometheus at
    ``http://<settings.metrics_address>/metrics``, or None when no address is set. Make one per
    process and give it to ``connect``: it owns the core's threads and binds the port now."""
    if not settings.metrics_address:
        return None
    prometheus = PrometheusConfig(bind_address=settings.metrics_address, durations_as_seconds=True)
    return Runtime(telemetry=TelemetryConfig(metrics=prometheus))
