"""The pay button: a payment link for some of a customer's open invoices, made by the
configured provider and kept in ``payment_links``. Blocking (the ledger, the provider's SDK):
the page runs it on a worker thread."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import structlog
from sqlalchemy.orm import Session, sessionmaker

from api.portal.payment_links.base import (
    PaymentLinkCreated,
    PaymentLinkLine,
    PaymentLinkProvider,
    PaymentLinkRequest,
)
from api.portal.statement import CustomerView, StatementLine
from ledger.db import unit_of_work
from ledger.repositories.payment_links import PaymentLinkRepository

log = structlog.get_logger()

REUSE_WITHIN = timedelta(hours=24)
"""A hosted checkout made this recently for the same invoices and amount is reused."""


def new_link_id() -> str:
    return f"PL-{uuid.uuid4().hex[:16]}"


def open_payment_link(
    sessions: sessionmaker[Session],
    provider: PaymentLinkProvider,
    customer: CustomerView,
    lines: Sequence[StatementLine],
    *,
    return_url: str,
    language: str,
    now: datetime | None = None,
) -> tuple[str, PaymentLinkCreated]:
    """(link id, what the provider made) for ``lines``, all in one currency. Raises
    ``PaymentLinkFailed`` when the provider refuses; nothing is stored then."""
    currencies = {line.currency for line in lines}
    if len(currencies) != 1:
        raise ValueError(f"a payment link is for one currency, not {sorted(currencies)}")
    currency = currencies.pop()
    numbers = [line.number for line in lines]
    amount_minor = sum(line.amount_due_minor for line in lines)
    moment = now or datetime.now(UTC)
    with unit_of_work(sessions) as session:
        earlier = PaymentLinkRepository.from_session(session).reusable(
            customer_id=customer.id,
            invoice_numbers=numbers,
            provider=provider.name,
            amount_minor=amount_minor,
            currency=currency,
            since=moment - REUSE_WITHIN,
        )
        if earlier is not None and earlier.url:
            return earlier.id, PaymentLinkCreated(
                provider=earlier.provider,
                url=earlier.url,
                provider_reference=earlier.provider_reference,
            )
    link_id = new_link_id()
    created = provider.create(
        PaymentLinkRequest(
            link_id=link_id,
            customer_id=customer.id,
            customer_name=customer.name,
            customer_email=customer.email,
            lines=tuple(
                PaymentLinkLine(line.number, line.amount_due, line.due_on) for line in lines
            ),
            total=sum((line.amount_due for line in lines), Decimal(0)),
            currency=currency,
            return_url=return_url,
            language=language,
        )
    )
    with unit_of_work(sessions) as session:
        PaymentLinkRepository.from_session(session).add(
            id=link_id,
            customer_id=customer.id,
            invoice_numbers=numbers,
            provider=created.provider,
            provider_reference=created.provider_reference,
            url=created.url,
            amount_minor=amount_minor,
            currency=currency,
        )
    log.info(
        "payment link made",
        customer=customer.id,
        invoices=numbers,
        link=link_id,
        provider=created.provider,
    )
    return link_id, created
