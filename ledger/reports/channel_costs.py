"""Contacts by channel and what they cost, against the money collected in the period."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.models import Interaction, Invoice
from ledger.reports import contributions as c
from ledger.reports.dashboard import total_of
from ledger.reports.period import Cell, KpiPeriod, KpiReport

COST_PER_UNIT = Decimal("0.000001")

DEFAULT_CHANNEL_PRICES: Mapping[str, Mapping[str, Decimal]] = {
    # What one message costs, by the invoice's currency: list prices of the usual providers
    # (SendGrid, Twilio SMS and voice per minute, WhatsApp utility templates) rounded up.
    "CLP": {
        "email": Decimal("1"),
        "sms": Decimal("75"),
        "whatsapp": Decimal("30"),
        "voice": Decimal("150"),
    },
    "MXN": {
        "email": Decimal("0.02"),
        "sms": Decimal("1.20"),
        "whatsapp": Decimal("0.35"),
        "voice": Decimal("2.50"),
    },
    "USD": {
        "email": Decimal("0.001"),
        "sms": Decimal("0.08"),
        "whatsapp": Decimal("0.02"),
        "voice": Decimal("0.15"),
    },
}
"""Unit price per message sent, by currency and channel: the default of ``channel_prices``."""


def channel_cost(
    session: Session, period: KpiPeriod, prices: Mapping[str, Decimal] | None = None
) -> KpiReport:
    """Messages sent in the period on the currency's invoices, by channel, at ``prices`` (per
    message, in the period's currency; default ``DEFAULT_CHANNEL_PRICES``), against the
    money collected in the period."""
    unit_prices = dict(
        DEFAULT_CHANNEL_PRICES.get(period.currency, {}) if prices is None else prices
    )
    contacts = session.execute(
        select(Interaction.channel, func.count())
        .join(Invoice, Invoice.number == Interaction.invoice_number)
        .where(
            Interaction.kind == "message_sent",
            Interaction.occurred_at >= period.start_at,
            Interaction.occurred_at < period.end_at,
            Invoice.currency == period.currency,
        )
        .group_by(Interaction.channel)
        .order_by(func.count().desc(), Interaction.channel)
    ).all()
    collected = total_of(
        session, c.collected(period.currency, period.start, period.end), period.currency
    ).amount
    rows: list[tuple[Cell, ...]] = []
    unpriced: list[str] = []
    for channel, count in contacts:
        name = str(channel or c.NO_CONTACT)
        price = unit_prices.get(name)
        if price is None:
            unpriced.append(name)
        cost = (price or Decimal(0)) * int(count)
        rows.append((name, int(count), price, cost))
    cost_total = sum((row[3] for row in rows if isinstance(row[3], Decimal)), Decimal(0))
    count_total = sum(int(count) for _, count in contacts)
    per_unit = (cost_total / collected).quantize(COST_PER_UNIT) if collected else None
    return KpiReport(
        name="channel-cost",
        title="Contacts and channel cost",
        period=period,
        figure=per_unit,
        unit="ratio",
        formula="cost = Σ messages sent × unit price of the channel; "
        "cost per unit collected = cost ÷ collected in the period",
        inputs={
            "contacts": count_total,
            "cost": cost_total,
            "collected": collected,
            "unit_prices": ", ".join(f"{k} {v}" for k, v in sorted(unit_prices.items())),
        },
        columns=("channel", "contacts", "unit_price", "cost"),
        rows=tuple(rows),
        notes=tuple(f"no unit price for {name}: counted at 0" for name in unpriced),
    )
