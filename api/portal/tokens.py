"""The portal link's credential: a signed, expiring token naming one customer (and the invoice
the message was about). It travels in SMS, so it is kept short: a compact JSON payload, the
signing day and an HMAC."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from api.web.secrets import signing_keys
from config.settings import Settings

SALT = "dunning.portal"
DAY_SECONDS = 86400
CLOCK_SKEW_SECONDS = 300


class PortalLinkInvalid(Exception):
    """Not a token we signed: tampered, cut short, or signed with a key we no longer hold."""


class PortalLinkExpired(Exception):
    """A genuine token, older than ``settings.portal_link_days``."""


@dataclass(frozen=True)
class PortalAccess:
    customer_id: str
    invoice_number: str | None = None
    """The invoice the message was about: highlighted on the statement."""


class _SignerAt(TimestampSigner):
    """A timestamp signer whose clock can be given: signing stamps the start of a UTC day (so
    a message re-rendered on the same day carries the same link) and a test reads a token
    "days later" without sleeping."""

    def __init__(self, *args: Any, moment: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._moment = moment

    def get_timestamp(self) -> int:
        return int(time.time() if self._moment is None else self._moment)


def _serializer(settings: Settings, moment: float | None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        signing_keys(settings),
        salt=SALT,
        signer=_SignerAt,
        signer_kwargs={"moment": moment},
    )


def portal_token(
    settings: Settings,
    customer_id: str,
    invoice_number: str | None = None,
    *,
    issued_at: datetime | None = None,
) -> str:
    """A token for ``customer_id``'s portal. It is stamped with the start of the UTC day of
    ``issued_at`` (now when not given): the same inputs on the same day give the same token."""
    moment = (issued_at or datetime.now(UTC)).timestamp()
    day_start = moment - moment % DAY_SECONDS
    payload: list[str] = [customer_id] if invoice_number is None else [customer_id, invoice_number]
    return _serializer(settings, day_start).dumps(payload)


def portal_url(
    settings: Settings,
    customer_id: str,
    invoice_number: str | None = None,
    *,
    issued_at: datetime | None = None,
) -> str:
    """The link a message carries: ``settings.portal_base_url`` and a fresh token."""
    token = portal_token(settings, customer_id, invoice_number, issued_at=issued_at)
    return f"{settings.portal_base_url}/{token}"


def read_portal_token(
    settings: Settings, token: str, *, now: datetime | None = None
) -> PortalAccess:
    """Who ``token`` lets in. ``now``: the moment to judge its age at (the clock if not given)."""
    # Judged a few minutes ahead: a link signed just after midnight by a machine whose clock
    # runs ahead of ours would otherwise look signed in the future, which itsdangerous
    # reports as expired.
    moment = (now or datetime.now(UTC)).timestamp() + CLOCK_SKEW_SECONDS
    serializer = _serializer(settings, moment)
    try:
        payload = serializer.loads(token, max_age=settings.portal_link_days * DAY_SECONDS)
    except SignatureExpired as error:
        raise PortalLinkExpired(str(error)) from error
    except BadData as error:
        raise PortalLinkInvalid(str(error)) from error
    if (
        not isinstance(payload, list)
        or not 1 <= len(payload) <= 2
        or not all(isinstance(part, str) and part for part in payload)
    ):
        raise PortalLinkInvalid("the token's payload is not a customer reference")
    return PortalAccess(*payload)
