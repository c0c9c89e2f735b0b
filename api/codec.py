"""Encryption of every Temporal payload: the product's clients and workers send only
ciphertext to the Temporal server, so its histories hold no debtor's name, email or phone.

Each payload is replaced by one whose data is AES-256-GCM over the whole serialized original
(its metadata, such as the encoding, included) with a fresh 12-byte nonce, and whose metadata
says ``encoding: binary/encrypted`` and ``encryption-key-id: <id>``. The key id is the
ciphertext's associated data, so a payload relabelled with another key id fails to decrypt.

What is not encrypted: search attributes (the Temporal server indexes them, so they hold ids,
stages, amounts and dates only; see ``config.settings.SEARCH_ATTRIBUTES``), workflow and
activity type names, workflow ids (invoice numbers), task queue names and timestamps.
Failure messages and stack traces are moved into an encoded attribute, so they are encrypted.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from config.payload_keys import PayloadKeys, payload_keys
from config.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
TAG_BYTES = 16


class PayloadDecryptionError(ValueError):
    """A payload this codec cannot decrypt: an unknown key id, or altered ciphertext."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: PayloadKeys) -> None:
        super().__init__()
        self.key_id = keys.current_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.by_id.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        key_id = self.key_id.encode()
        sealed = self._ciphers[self.key_id].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        """Payloads that are not encrypted pass through: histories written before encryption
        was turned on still replay."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"payload encrypted with key id {key_id!r}, which is not among the configured "
                f"payload keys ({', '.join(sorted(self._ciphers))}): add it to "
                "DUNNING_PAYLOAD_KEYS after the current key"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            if len(sealed) < TAG_BYTES:
                raise InvalidTag
            return Payload.FromString(cipher.decrypt(nonce, sealed, key_id.encode()))
        except (InvalidTag, DecodeError) as error:
            raise PayloadDecryptionError(
                f"payload encrypted with key id {key_id!r} fails authentication: it was "
                "altered, or the key under that id is not the one that encrypted it"
            ) from error


def encrypted_data_converter(codec: EncryptionCodec) -> DataConverter:
    """The product's converter (pydantic: Decimal and date survive) with encryption."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def codec_for(settings: Settings) -> EncryptionCodec:
    return EncryptionCodec(payload_keys(settings))
