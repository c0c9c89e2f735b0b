"""What a simulated policy achieved over a book, and two of them side by side.

Definitions (every figure counts only what happened within each invoice's own ``days`` from
issuance, the moment it joined the simulation):

- collected by day N: the amount paid by N days after each invoice's issuance (invoice age, not
  calendar date: a book spread over a year and a half is compared cohort by cohort), per currency;
- DSO: the amount-weighted average days an invoice stayed unpaid, an unpaid invoice counting the
  whole horizon (``days``): Σ amount × days outstanding / Σ amount, per currency;
- contacts: messages sent, by channel (a message that spoke for several invoices counts once);
- channel cost: each message at its channel's unit price in the invoice's currency
  (``ChannelPrices``: the settings' ``channel_prices``, shared with the channel-cost report);
- tasks: collector tasks opened; handoffs: invoices handed to an agency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dunning_policies.language import Channel
from ledger.reports.channel_costs import DEFAULT_CHANNEL_PRICES

MILESTONE_DAYS = (30, 60, 90)
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class ChannelPrices:
    """What one message costs, by the invoice's currency and the channel: the same table the
    ``channel-cost`` report prices with (``DUNNING_CHANNEL_PRICES``, default
    ``ledger.reports.channel_costs.DEFAULT_CHANNEL_PRICES``)."""

    table: Mapping[str, Mapping[str, Decimal]] = field(
        default_factory=lambda: {c: dict(p) for c, p in DEFAULT_CHANNEL_PRICES.items()}
    )

    def price(self, channel: str, currency: str) -> Decimal:
        try:
            return self.table[currency][channel]
        except KeyError as error:
            raise ValueError(
                f"no unit price for {channel} in {currency}: add it to channel_prices"
            ) from error


@dataclass(frozen=True)
class InvoiceOutcome:
    number: str
    currency: str
    amount: Decimal
    paid_after_seconds: int | None
    """From the invoice's start to its payment; None: unpaid within the horizon."""
    contacts: tuple[str, ...]
    """The channel of each message counted for this invoice."""
    tasks: int
    handoffs: int


@dataclass(frozen=True)
class CurrencyFigures:
    currency: str
    invoices: int
    invoiced: Decimal
    collected_by_day: dict[int, Decimal]
    dso_days: Decimal
    channel_cost: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "invoices": self.invoices,
            "invoiced": str(self.invoiced),
            "collected_by_day": {str(d): str(v) for d, v in self.collected_by_day.items()},
            "dso_days": str(self.dso_days),
            "channel_cost": str(self.channel_cost),
        }


@dataclass(frozen=True)
class SimulationResult:
    policy: str
    days: int
    seed: int
    invoices: int
    invoices_paid: int
    currencies: tuple[CurrencyFigures, ...]
    contacts: dict[str, int]
    tasks_created: int
    handoffs: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "days": self.days,
            "seed": self.seed,
            "invoices": self.invoices,
            "invoices_paid": self.invoices_paid,
            "currencies": [figures.as_dict() for figures in self.currencies],
            "contacts": dict(self.contacts),
            "tasks_created": self.tasks_created,
            "handoffs": self.handoffs,
        }


def milestones(days: int) -> tuple[int, ...]:
    return tuple(sorted({*(d for d in MILESTONE_DAYS if d < days), days}))


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def summarise(
    policy: str,
    outcomes: Sequence[InvoiceOutcome],
    *,
    days: int,
    seed: int,
    prices: ChannelPrices | None = None,
) -> SimulationResult:
    prices = prices or ChannelPrices()
    horizon = days * SECONDS_PER_DAY
    marks = milestones(days)
    figures = []
    for currency in sorted({outcome.currency for outcome in outcomes}):
        mine = [outcome for outcome in outcomes if outcome.currency == currency]
        invoiced = sum((o.amount for o in mine), Decimal(0))
        collected = {
            mark: sum(
                (
                    o.amount
                    for o in mine
                    if o.paid_after_seconds is not None
                    and o.paid_after_seconds < mark * SECONDS_PER_DAY
                ),
                Decimal(0),
            )
            for mark in marks
        }
        outstanding = sum(
            (o.amount * min(horizon, o.paid_after_seconds or horizon) for o in mine),
            Decimal(0),
        )
        cost = sum(
            (prices.price(channel, currency) for o in mine for channel in o.contacts), Decimal(0)
        )
        figures.append(
            CurrencyFigures(
                currency=currency,
                invoices=len(mine),
                invoiced=invoiced,
                collected_by_day=collected,
                dso_days=(outstanding / invoiced / SECONDS_PER_DAY).quantize(Decimal("0.1")),
                channel_cost=_money(cost),
            )
        )
    contacts = {channel.value: 0 for channel in Channel}
    for outcome in outcomes:
        for channel in outcome.contacts:
            contacts[channel] += 1
    return SimulationResult(
        policy=policy,
        days=days,
        seed=seed,
        invoices=len(outcomes),
        invoices_paid=sum(1 for o in outcomes if o.paid_after_seconds is not None),
        currencies=tuple(figures),
        contacts=contacts,
        tasks_created=sum(o.tasks for o in outcomes),
        handoffs=sum(o.handoffs for o in outcomes),
    )


@dataclass(frozen=True)
class ComparisonRow:
    figure: str
    a: Decimal
    b: Decimal

    @property
    def difference(self) -> Decimal:
        return self.b - self.a

    def as_dict(self) -> dict[str, str]:
        return {
            "figure": self.figure,
            "a": str(self.a),
            "b": str(self.b),
            "difference": str(self.difference),
        }


def compare(a: SimulationResult, b: SimulationResult) -> list[ComparisonRow]:
    """The two results figure by figure (B − A in ``difference``); both over the same book."""
    rows = [
        ComparisonRow("invoices paid", Decimal(a.invoices_paid), Decimal(b.invoices_paid)),
    ]
    b_by_currency = {figures.currency: figures for figures in b.currencies}
    for fa in a.currencies:
        fb = b_by_currency[fa.currency]
        for mark, value in fa.collected_by_day.items():
            rows.append(
                ComparisonRow(
                    f"collected by day {mark} ({fa.currency})", value, fb.collected_by_day[mark]
                )
            )
        rows.append(ComparisonRow(f"DSO, days ({fa.currency})", fa.dso_days, fb.dso_days))
        rows.append(
            ComparisonRow(f"channel cost ({fa.currency})", fa.channel_cost, fb.channel_cost)
        )
    for channel, count in a.contacts.items():
        rows.append(
            ComparisonRow(f"contacts by {channel}", Decimal(count), Decimal(b.contacts[channel]))
        )
    rows.append(ComparisonRow("tasks created", Decimal(a.tasks_created), Decimal(b.tasks_created)))
    rows.append(ComparisonRow("handoffs", Decimal(a.handoffs), Decimal(b.handoffs)))
    return rows
