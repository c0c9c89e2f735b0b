"""The portal link's token: who it lets in, for how long, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from api.portal.tokens import (
    PortalAccess,
    PortalLinkExpired,
    PortalLinkInvalid,
    portal_token,
    portal_url,
    read_portal_token,
)
from config.settings import Settings
from tests.portal.support import tampered

ISSUED = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)


def settings(tmp_path: Path, secret: str = "key-one", days: int = 30) -> Settings:
    return Settings(data_dir=tmp_path, web_secret=SecretStr(secret), portal_link_days=days)


def test_a_token_names_its_customer_and_invoice(tmp_path: Path) -> None:
    s = settings(tmp_path)
    with_invoice = portal_token(s, "C-42", "F-2026-0042", issued_at=ISSUED)
    without = portal_token(s, "C-42", issued_at=ISSUED)
    later = ISSUED + timedelta(days=3)
    assert read_portal_token(s, with_invoice, now=later) == PortalAccess("C-42", "F-2026-0042")
    assert read_portal_token(s, without, now=later) == PortalAccess("C-42", None)


def test_a_token_is_short_enough_for_an_sms_and_url_safe(tmp_path: Path) -> None:
    token = portal_token(settings(tmp_path), "C-000123", "F-2026-004217")
    assert len(token) <= 80, token
    assert all(c.isalnum() or c in "-_." for c in token), token
    url = portal_url(settings(tmp_path), "C-000123", "F-2026-004217")
    assert url.startswith("http://localhost:8000/portal/") and url.endswith(token)


def test_the_same_day_gives_the_same_link_and_another_day_another(tmp_path: Path) -> None:
    s = settings(tmp_path)
    morning = portal_token(s, "C-42", "F-1", issued_at=ISSUED.replace(hour=1))
    evening = portal_token(s, "C-42", "F-1", issued_at=ISSUED.replace(hour=23))
    tomorrow = portal_token(s, "C-42", "F-1", issued_at=ISSUED + timedelta(days=1))
    assert morning == evening
    assert tomorrow != morning


def test_a_link_expires_after_the_configured_days(tmp_path: Path) -> None:
    s = settings(tmp_path, days=30)
    token = portal_token(s, "C-42", "F-1", issued_at=ISSUED)
    day_start = ISSUED.replace(hour=0, minute=30)
    assert read_portal_token(s, token, now=day_start + timedelta(days=29)).customer_id == "C-42"
    with pytest.raises(PortalLinkExpired):
        read_portal_token(s, token, now=day_start + timedelta(days=30, hours=1))


@pytest.mark.parametrize("position", [0, 10, -5, -1])
def test_a_changed_character_makes_the_token_invalid(tmp_path: Path, position: int) -> None:
    s = settings(tmp_path)
    token = portal_token(s, "C-42", "F-1", issued_at=ISSUED)
    changed = tampered(token, position)
    assert changed != token and len(changed) == len(token)
    with pytest.raises(PortalLinkInvalid):
        read_portal_token(s, changed, now=ISSUED)


def test_garbage_and_another_customers_payload_are_invalid(tmp_path: Path) -> None:
    s = settings(tmp_path)
    token = portal_token(s, "C-42", issued_at=ISSUED)
    _, timestamp, signature = token.split(".")
    other_payload = portal_token(s, "C-43", issued_at=ISSUED).split(".")[0]
    for wrong in ("", "abc", "a.b.c", f"{other_payload}.{timestamp}.{signature}"):
        with pytest.raises(PortalLinkInvalid):
            read_portal_token(s, wrong, now=ISSUED)


def test_a_token_signed_with_another_key_is_invalid(tmp_path: Path) -> None:
    token = portal_token(settings(tmp_path, "someone-else"), "C-42", "F-1", issued_at=ISSUED)
    with pytest.raises(PortalLinkInvalid):
        read_portal_token(settings(tmp_path, "key-one"), token, now=ISSUED)


def test_a_rotated_key_still_opens_links_already_sent(tmp_path: Path) -> None:
    old = portal_token(settings(tmp_path, "key-old"), "C-42", "F-1", issued_at=ISSUED)
    rotated = settings(tmp_path, "key-new,key-old")  # newest first
    assert read_portal_token(rotated, old, now=ISSUED).customer_id == "C-42"
    fresh = portal_token(rotated, "C-42", "F-1", issued_at=ISSUED)
    with pytest.raises(PortalLinkInvalid):
        read_portal_token(settings(tmp_path, "key-old"), fresh, now=ISSUED)


def test_portal_tokens_are_not_csrf_or_session_tokens(tmp_path: Path) -> None:
    """Same keys sign sessions and CSRF tokens; the salt keeps a portal token from being
    anything else, and anything else from being a portal token."""
    from itsdangerous import URLSafeTimedSerializer

    from api.web.secrets import signing_keys

    s = settings(tmp_path)
    unsalted = URLSafeTimedSerializer(signing_keys(s), salt="dunning.session").dumps(["C-42"])
    with pytest.raises(PortalLinkInvalid):
        read_portal_token(s, unsalted)


def test_a_link_signed_by_a_clock_a_little_ahead_still_opens(tmp_path: Path) -> None:
    s = settings(tmp_path)
    midnight = ISSUED.replace(hour=0, minute=0, second=5)
    token = portal_token(s, "C-42", "F-1", issued_at=midnight)
    assert read_portal_token(s, token, now=midnight - timedelta(seconds=30)).customer_id == "C-42"
