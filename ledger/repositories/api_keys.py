"""API keys: who may call the HTTP API, and in which role."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from ledger.models import API_KEY_ROLES, ApiKey
from ledger.repositories.base import Repository


class ApiKeyRepository(Repository[ApiKey]):
    model = ApiKey

    def add(self, *, id: str, name: str, role: str, secret_sha256: str) -> ApiKey:
        if role not in API_KEY_ROLES:
            raise ValueError(f"role must be one of {', '.join(API_KEY_ROLES)}, got {role!r}")
        key = ApiKey(id=id, name=name, role=role, secret_sha256=secret_sha256)
        self.session.add(key)
        self.session.flush()
        return key

    def get_active(self, key_id: str) -> ApiKey | None:
        key = self._get(key_id)
        return key if key is not None and key.revoked_at is None else None

    def revoke(self, key_id: str, *, at: datetime) -> ApiKey:
        key = self._get_or_raise(key_id)
        key.revoked_at = key.revoked_at or at
        return key

    def list_keys(self) -> Sequence[ApiKey]:
        return self.session.scalars(select(ApiKey).order_by(ApiKey.created_at)).all()
