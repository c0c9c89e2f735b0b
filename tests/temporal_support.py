"""Temporal servers for tests, from the wheels in this virtualenv (never downloaded)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from api.codec import EncryptionCodec, encrypted_data_converter
from config.payload_keys import new_key_entry, parse_payload_keys
from config.settings import SEARCH_ATTRIBUTES

_KEYS = {
    "Keyword": SearchAttributeKey.for_keyword,
    "Int": SearchAttributeKey.for_int,
    "Datetime": SearchAttributeKey.for_datetime,
}
SEARCH_ATTRIBUTE_KEYS = [_KEYS[kind](name) for name, kind in SEARCH_ATTRIBUTES.items()]

_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


def binary(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        raise RuntimeError(f"{name} is missing: install the project with `make install`")
    return found


# One payload key for the test process and every product process a test starts (they get it in
# DUNNING_PAYLOAD_KEYS): all of them read each other's encrypted payloads.
TEST_PAYLOAD_KEYS = new_key_entry("test")


def test_data_converter() -> DataConverter:
    """The product's converter with the tests' key: what ``api.temporal.connect`` builds."""
    return encrypted_data_converter(EncryptionCodec(parse_payload_keys(TEST_PAYLOAD_KEYS)))


async def start_dev_server() -> WorkflowEnvironment:
    """A real dev server (not time-skipping) with the product's converter (encrypting, with the
    tests' key) and search attributes; the caller shuts it down."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        data_converter=test_data_converter(),
        search_attributes=SEARCH_ATTRIBUTE_KEYS,
        dev_server_log_level="error",
    )


async def register_search_attributes(client: Client) -> None:
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={name: _TYPES[kind] for name, kind in SEARCH_ATTRIBUTES.items()},
        )
    )
