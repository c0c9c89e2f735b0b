"""The keys that sign sessions, CSRF tokens and portal links."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from config.settings import Settings

SECRET_FILE = "web-secret"


def signing_keys(settings: Settings) -> list[str]:
    """Newest last, as itsdangerous wants them: it signs with the last and verifies with all.

    ``DUNNING_WEB_SECRET`` lists them newest first (the order people write a rotation in).
    Without it, one machine's demo gets a key made once into the data directory, readable by
    its owner only."""
    configured = [
        key.strip() for key in settings.web_secret.get_secret_value().split(",") if key.strip()
    ]
    if configured:
        return list(reversed(configured))
    return [_local_key(settings.data_dir / SECRET_FILE)]


def _local_key(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: when two processes start at once, one writes and both read its key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(key)
    return key
