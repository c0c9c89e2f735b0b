"""The payload codec: AES-256-GCM per payload, the key id in the metadata, rotation, payloads
written before encryption passing through, and the keys' setting read strictly."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from api.codec import (
    ENCODING,
    KEY_ID,
    EncryptionCodec,
    PayloadDecryptionError,
    codec_for,
    encrypted_data_converter,
)
from config.payload_keys import (
    KEY_FILE,
    PayloadKeyError,
    new_key_entry,
    parse_payload_keys,
)
from config.settings import Settings
from tests.replay.test_replay import RECORDED, history
from workflows.invoice import InvoiceDunningWorkflow

NAME = "Ferretería Zúñiga Única SpA"
EMAIL = "pagos@zuniga-unica.cl"


@dataclass
class Debtor:
    name: str
    email: str
    amount: Decimal


def codec(*entries: str) -> EncryptionCodec:
    return EncryptionCodec(parse_payload_keys(",".join(entries)))


OLD = new_key_entry("k2025")
NEW = new_key_entry("k2026")


async def test_values_round_trip_and_the_payload_shows_only_the_key_id() -> None:
    converter = encrypted_data_converter(codec(NEW))
    debtor = Debtor(NAME, EMAIL, Decimal("1250000.50"))
    (payload,) = await converter.encode([debtor])
    assert dict(payload.metadata) == {"encoding": ENCODING, KEY_ID: b"k2026"}
    for secret in (NAME.encode(), EMAIL.encode(), b"json/plain", b"1250000.50"):
        assert secret not in payload.SerializeToString()
    assert await converter.decode([payload], [Debtor]) == [debtor]


async def test_the_same_payload_encrypts_differently_each_time() -> None:
    plain = pydantic_data_converter.payload_converter.to_payloads([EMAIL])
    first, second = await codec(NEW).encode(plain + plain)
    assert first.data[:12] != second.data[:12], "a fresh nonce per payload"
    assert first.data != second.data
    assert await codec(NEW).decode([first, second]) == plain + plain


def flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


@pytest.mark.parametrize(
    "alter",
    [flip_last_byte, lambda data: data[:20], lambda data: b"", lambda data: data + b"\0"],
    ids=["a bit flipped", "cut short", "emptied", "lengthened"],
)
async def test_altered_ciphertext_is_refused(alter: Callable[[bytes], bytes]) -> None:
    (sealed,) = await codec(NEW).encode(pydantic_data_converter.payload_converter.to_payloads([1]))
    tampered = Payload(metadata=sealed.metadata, data=alter(sealed.data))
    with pytest.raises(PayloadDecryptionError, match=r"k2026.*altered"):
        await codec(NEW).decode([tampered])


async def test_a_payload_relabelled_with_another_key_id_is_refused() -> None:
    # Both keys known: the key id is authenticated data, so a swapped label cannot decrypt.
    (sealed,) = await codec(NEW).encode(pydantic_data_converter.payload_converter.to_payloads([1]))
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"k2025"}, data=sealed.data)
    with pytest.raises(PayloadDecryptionError, match="k2025"):
        await codec(NEW, OLD).decode([relabelled])


async def test_rotation_new_key_first_old_payloads_still_decrypt() -> None:
    plain = pydantic_data_converter.payload_converter.to_payloads([NAME])
    (written_before,) = await codec(OLD).encode(plain)

    rotated = codec(NEW, OLD)
    assert await rotated.decode([written_before]) == plain
    (written_after,) = await rotated.encode(plain)
    assert written_after.metadata[KEY_ID] == b"k2026"
    assert await rotated.decode([written_after]) == plain


async def test_a_key_id_no_longer_configured_is_named_in_the_error() -> None:
    (written_before,) = await codec(OLD).encode(
        pydantic_data_converter.payload_converter.to_payloads([NAME])
    )
    with pytest.raises(PayloadDecryptionError, match=r"key id 'k2025'.*DUNNING_PAYLOAD_KEYS"):
        await codec(NEW).decode([written_before])


async def test_an_unencrypted_payload_passes_through_untouched() -> None:
    (plain,) = pydantic_data_converter.payload_converter.to_payloads(
        [Debtor(NAME, EMAIL, Decimal(1))]
    )
    assert await codec(NEW).decode([plain]) == [plain]


@pytest.mark.parametrize("path", RECORDED[:3], ids=lambda p: p.stem)
async def test_histories_recorded_before_encryption_replay_with_the_codec(path: Path) -> None:
    replayer = Replayer(
        workflows=[InvoiceDunningWorkflow], data_converter=encrypted_data_converter(codec(NEW))
    )
    result = await replayer.replay_workflow(history(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure!r}"


async def test_failure_messages_are_encrypted_too() -> None:
    converter = encrypted_data_converter(codec(NEW))
    failure = Failure()
    await converter.encode_failure(ApplicationError(f"no se pudo enviar a {EMAIL}"), failure)
    assert EMAIL.encode() not in failure.SerializeToString()
    error = await converter.decode_failure(failure)
    assert EMAIL in str(error)


# --- the keys setting ---------------------------------------------------------------------


def test_the_first_key_encrypts_and_all_decrypt() -> None:
    keys = parse_payload_keys(f" {NEW} , {OLD} ")
    assert keys.current_id == "k2026"
    assert set(keys.by_id) == {"k2026", "k2025"}
    assert all(len(key) == 32 for key in keys.by_id.values())


def test_url_safe_base64_without_padding_is_accepted() -> None:
    raw = bytes(range(200, 232))
    urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert parse_payload_keys(f"k1:{urlsafe}").by_id["k1"] == raw


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("k1", "no ':'"),
        (f"k1:{base64.b64encode(b'short').decode()}", "5 bytes; AES-256 needs 32"),
        ("k1:not*base64!", "not base64"),
        (f"{NEW},{NEW}", "listed twice"),
        (f"-bad{NEW[5:]}", "id '-bad'"),
        (" , ", "no payload key"),
    ],
)
def test_a_bad_setting_says_what_is_wrong(setting: str, complaint: str) -> None:
    with pytest.raises(PayloadKeyError, match=complaint):
        parse_payload_keys(setting)


def test_the_error_never_quotes_the_key() -> None:
    key = base64.b64encode(os.urandom(31)).decode()
    with pytest.raises(PayloadKeyError) as raised:
        parse_payload_keys(f"k1:{key}")
    assert key not in str(raised.value)


def test_without_the_setting_a_key_is_made_once_for_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, payload_keys=SecretStr(""))
    first = codec_for(settings)
    assert first.key_id.startswith("local-")
    key_file = tmp_path / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert codec_for(settings).key_id == first.key_id
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE], "no draft left behind"


async def test_the_configured_setting_wins_over_the_local_file(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, payload_keys=SecretStr(NEW))
    assert codec_for(settings).key_id == "k2026"
    assert not (tmp_path / KEY_FILE).exists()
