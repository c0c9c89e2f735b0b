"""API keys with roles. A key is shown once when made; only a SHA-256 of its secret is kept
(the secret is 32 random bytes, so a fast hash is enough — there is nothing to brute-force)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from ledger.db import unit_of_work
from ledger.repositories.api_keys import ApiKeyRepository

ROLES = ("erp", "collector", "ops", "admin")
KEY_PREFIX = "dk"


@dataclass(frozen=True)
class Caller:
    key_id: str
    name: str
    role: str


@dataclass(frozen=True)
class NewKey:
    key_id: str
    name: str
    role: str
    key: str
    """The whole key, to give to the caller once; it is never stored or shown again."""


class NotAuthenticated(Exception):
    """No key, or a key that is unknown, malformed or revoked."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(sessions: sessionmaker[Session], *, role: str, name: str) -> NewKey:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with unit_of_work(sessions) as session:
        ApiKeyRepository.from_session(session).add(
            id=key_id, name=name, role=role, secret_sha256=_digest(secret)
        )
    return NewKey(key_id, name, role, f"{KEY_PREFIX}_{key_id}_{secret}")


def revoke_key(sessions: sessionmaker[Session], key_id: str) -> None:
    with unit_of_work(sessions) as session:
        ApiKeyRepository.from_session(session).revoke(key_id, at=datetime.now(UTC))
    # This process forgets it at once; other processes within CACHE_SECONDS.
    for digest, (_, caller) in list(_verified.items()):
        if caller.key_id == key_id:
            del _verified[digest]


# A verified key is trusted for this long without a database read; revoking takes at most as
# long to bite. Keyed by the digest, so no secret is held in memory in clear.
CACHE_SECONDS = 30.0
_verified: dict[str, tuple[float, Caller]] = {}


def recently_verified(presented: str | None) -> Caller | None:
    """The caller of a key verified less than ``CACHE_SECONDS`` ago, without the database;
    None when the key must be looked up. A missing or malformed key is refused at once."""
    key_id, digest = _parse(presented)
    cached = _verified.get(digest)
    if cached is not None and cached[0] > time.monotonic() and cached[1].key_id == key_id:
        return cached[1]
    return None


def authenticate(sessions: sessionmaker[Session], presented: str | None) -> Caller:
    cached = recently_verified(presented)
    if cached is not None:
        return cached
    key_id, digest = _parse(presented)
    with unit_of_work(sessions) as session:
        key = ApiKeyRepository.from_session(session).get_active(key_id)
        stored = None if key is None else (key.secret_sha256, key.name, key.role)
    if stored is None or not hmac.compare_digest(stored[0], digest):
        raise NotAuthenticated("unknown or revoked API key")
    caller = Caller(key_id, stored[1], stored[2])
    _verified[digest] = (time.monotonic() + CACHE_SECONDS, caller)
    return caller


def _parse(presented: str | None) -> tuple[str, str]:
    """The key id and the digest of the secret."""
    if not presented:
        raise NotAuthenticated("no API key: send it as 'Authorization: Bearer <key>'")
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not key_id or not secret:
        raise NotAuthenticated("malformed API key")
    return key_id, _digest(secret)
