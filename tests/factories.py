"""Small typed factories for tests: an invoice state and the moments of a policy."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from dunning_policies.language import Channel
from dunning_policies.state import Customer, InvoiceState

SANTIAGO = "America/Santiago"


def make_state(
    due_on: date = date(2026, 12, 1),
    *,
    amount: Decimal = Decimal(1_250_000),
    currency: str = "CLP",
    timezone: str = SANTIAGO,
    channels: frozenset[Channel] = frozenset(Channel),
    issued_on: date | None = None,
    number: str = "F-1001",
) -> InvoiceState:
    return InvoiceState(
        invoice_number=number,
        currency=currency,
        original_amount=amount,
        issued_on=issued_on or date(due_on.year, due_on.month, 1),
        due_on=due_on,
        customer=Customer(
            id="C-7", country="CL", timezone=timezone, locale="es_CL", channels=channels
        ),
        dispute_cases=True,
        replacements_confirmed=True,
    )


def local(day: date, at: time = time(10, 0), timezone: str = SANTIAGO) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(timezone)).astimezone(UTC)
