"""The one way the product connects to Temporal: pydantic payloads (Decimal and date survive),
encrypted with the configured payload keys (api/codec.py). Every client the product makes,
and so every worker, comes from here."""

from __future__ import annotations

from temporalio.client import Client

from api.codec import codec_for, encrypted_data_converter
from config.settings import Settings


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=encrypted_data_converter(codec_for(settings)),
    )
