"""The AES-256 keys that encrypt Temporal payloads, read from ``DUNNING_PAYLOAD_KEYS``.

The setting lists ``<key id>:<base64 of 32 bytes>`` entries, comma-separated, newest first:
the first encrypts, every one decrypts. Rotating is putting a new entry first and keeping
the old ones for as long as histories encrypted with them are kept. Without the setting, one
machine's demo gets a key made once into ``<data_dir>/payload-key``: every process that talks
to the same Temporal server must then share that data directory.

``python -m config.payload_keys <key id>`` prints a new entry.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from config.settings import Settings

KEY_FILE = "payload-key"
KEY_BYTES = 32  # AES-256
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class PayloadKeyError(ValueError):
    """The configured keys cannot be used; the message says which entry and why."""


@dataclass(frozen=True)
class PayloadKeys:
    current_id: str
    """Encrypts every new payload."""
    by_id: Mapping[str, bytes]
    """Decrypts: the current key and every older one still listed."""

    def __post_init__(self) -> None:
        if self.current_id not in self.by_id:
            raise PayloadKeyError(f"the current key {self.current_id!r} is not among the keys")


def parse_payload_keys(text: str) -> PayloadKeys:
    """``id1:base64,id0:base64`` → keys, the first current. Raises ``PayloadKeyError``."""
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if not entries:
        raise PayloadKeyError("no payload key: expected '<key id>:<base64 key>, …'")
    by_id: dict[str, bytes] = {}
    for position, entry in enumerate(entries, 1):
        key_id, separator, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not separator:
            raise PayloadKeyError(f"payload key {position} has no ':' between id and key")
        if not _KEY_ID.fullmatch(key_id):
            raise PayloadKeyError(
                f"payload key {position}: id {key_id!r} must be 1-64 letters, digits, '.', '_' "
                "or '-', starting with a letter or digit"
            )
        if key_id in by_id:
            raise PayloadKeyError(f"payload key id {key_id!r} is listed twice")
        by_id[key_id] = _decode_key(key_id, encoded.strip())
    return PayloadKeys(current_id=entries[0].partition(":")[0].strip(), by_id=by_id)


def _decode_key(key_id: str, encoded: str) -> bytes:
    # Standard or URL-safe alphabet, padding optional: people paste keys from many tools.
    normalized = encoded.replace("-", "+").replace("_", "/")
    normalized += "=" * (-len(normalized) % 4)
    try:
        key = base64.b64decode(normalized, validate=True)
    except binascii.Error as error:
        raise PayloadKeyError(f"payload key {key_id!r} is not base64") from error
    if len(key) != KEY_BYTES:
        raise PayloadKeyError(
            f"payload key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}"
        )
    return key


def new_key_entry(key_id: str) -> str:
    """A fresh ``<key id>:<base64>`` entry, from the operating system's random source."""
    if not _KEY_ID.fullmatch(key_id):
        raise PayloadKeyError(f"{key_id!r} is not a valid key id")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}"


def payload_keys(settings: Settings) -> PayloadKeys:
    configured = settings.payload_keys.get_secret_value()
    if configured.strip():
        return parse_payload_keys(configured)
    return parse_payload_keys(_local_entry(settings.data_dir / KEY_FILE))


def _local_entry(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = new_key_entry(f"local-{secrets.token_hex(4)}")
    # Written aside, then linked into place: a process starting at the same moment sees either
    # no file or a whole one, and a link never replaces the key another process already made.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(entry)
    try:
        os.link(draft, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        draft.unlink()
    return entry


if __name__ == "__main__":
    print(new_key_entry(sys.argv[1] if len(sys.argv) > 1 else datetime.now(UTC).strftime("k%Y%m")))
