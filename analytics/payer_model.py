"""How customers answer dunning: the policy simulator's payer-behaviour model.

Three things, each by segment (preferred, standard, high_risk):

- ``pays_without_contact``: the chance that a customer pays an invoice on its own, around the
  due date, whatever the policy does; ``days_from_due_without_contact`` says when (days from the
  due date, weights).
- ``pays_after_contact[segment][channel]``: the chance that a message by that channel is followed
  by the payment within ``response_window_days`` (and before the next message);
  ``delay_days`` says how many days after the message (weights, each below the window).

The file format is that JSON (``analytics/default_payer_model.json`` is the bundled default);
``learned_from_ledger`` measures the same figures on the ledger's history. Drawing takes the
caller's ``random.Random``: the model itself holds no randomness.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from dunning_policies.language import Channel
from ledger.models import Interaction, Invoice, Payment
from ledger.reports.sql import days_before, days_between, utc_date

SEGMENTS = ("preferred", "standard", "high_risk")
CHANNELS = tuple(channel.value for channel in Channel)
DEFAULT_MODEL_PATH = Path(__file__).with_name("default_payer_model.json")
MIN_OBSERVATIONS = 30
"""A learned figure needs this many cases; a thinner cell keeps the default model's value."""

Weights = tuple[tuple[int, float], ...]


class PayerModelError(ValueError):
    """A payer-model file that cannot be used; the message names the field."""


def _draw(rng: random.Random, weights: Weights) -> int:
    total = sum(weight for _, weight in weights)
    point, running = rng.random() * total, 0.0
    for value, weight in weights:
        running += weight
        if point < running:
            return value
    return weights[-1][0]


@dataclass(frozen=True)
class PayerModel:
    response_window_days: int
    pays_without_contact: dict[str, float]
    days_from_due_without_contact: Weights
    pays_after_contact: dict[str, dict[str, float]]
    delay_days: Weights

    # --- drawing (the caller's seeded generator) ---

    def draw_unprompted(self, rng: random.Random, segment: str) -> int | None:
        """Days from the due date on which the customer pays unprompted, or None."""
        if rng.random() >= self.pays_without_contact.get(segment, 0.0):
            return None
        return _draw(rng, self.days_from_due_without_contact)

    def draw_after_contact(self, rng: random.Random, segment: str, channel: str) -> int | None:
        """Days after a message by ``channel`` on which the customer pays, or None."""
        chance = self.pays_after_contact.get(segment, {}).get(channel, 0.0)
        if rng.random() >= chance:
            return None
        return _draw(rng, self.delay_days)

    # --- reading and writing ---

    @classmethod
    def default(cls) -> PayerModel:
        return cls.from_file(DEFAULT_MODEL_PATH)

    @classmethod
    def from_file(cls, path: Path | str) -> PayerModel:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise PayerModelError(f"{path}: not JSON ({error})") from error
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: Any, *, source: str = "payer model") -> PayerModel:
        if not isinstance(raw, dict):
            raise PayerModelError(f"{source}: expected an object")
        window = raw.get("response_window_days")
        if not isinstance(window, int) or window < 1:
            raise PayerModelError(f"{source}: response_window_days must be a positive integer")
        unprompted = {
            segment: _chance(raw, source, "pays_without_contact", segment) for segment in SEGMENTS
        }
        after = {
            segment: {
                channel: _chance(raw, source, "pays_after_contact", segment, channel)
                for channel in CHANNELS
            }
            for segment in SEGMENTS
        }
        delays = _weights(raw, source, "delay_days")
        if any(not 0 <= days < window for days, _ in delays):
            raise PayerModelError(
                f"{source}: delay_days must lie in 0..{window - 1} (the response window)"
            )
        return cls(
            response_window_days=window,
            pays_without_contact=unprompted,
            days_from_due_without_contact=_weights(raw, source, "days_from_due_without_contact"),
            pays_after_contact=after,
            delay_days=delays,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "response_window_days": self.response_window_days,
            "pays_without_contact": dict(self.pays_without_contact),
            "days_from_due_without_contact": {
                str(days): weight for days, weight in self.days_from_due_without_contact
            },
            "pays_after_contact": {s: dict(c) for s, c in self.pays_after_contact.items()},
            "delay_days": {str(days): weight for days, weight in self.delay_days},
        }

    # --- learning ---

    @classmethod
    def learned_from_ledger(
        cls,
        session: Session,
        since: date,
        until: date,
        *,
        fallback: PayerModel | None = None,
        min_observations: int = MIN_OBSERVATIONS,
    ) -> PayerModel:
        """The figures measured on the messages sent and the invoices issued in [``since``,
        ``until``) (UTC days): a message counts as answered when the invoice's first applied
        payment came within the response window after it and before the next message. Cells
        with fewer than ``min_observations`` cases keep ``fallback``'s (default: the bundled
        model's) value."""
        base = fallback or cls.default()
        window = base.response_window_days
        start = datetime.combine(since, time(0), tzinfo=UTC)
        end = datetime.combine(until, time(0), tzinfo=UTC)
        first_paid = (
            select(Payment.invoice_number, func.min(Payment.paid_at).label("paid_at"))
            .where(Payment.status == "applied")
            .group_by(Payment.invoice_number)
            .subquery()
        )
        messages = (
            select(
                Interaction.invoice_number,
                Interaction.channel,
                Interaction.occurred_at,
                func.lead(Interaction.occurred_at)
                .over(
                    partition_by=Interaction.invoice_number,
                    order_by=(Interaction.occurred_at, Interaction.id),
                )
                .label("next_at"),
            )
            .where(Interaction.kind == "message_sent")
            .subquery()
        )
        answered = and_(
            first_paid.c.paid_at >= messages.c.occurred_at,
            days_before(first_paid.c.paid_at, window) < messages.c.occurred_at,
            or_(messages.c.next_at.is_(None), first_paid.c.paid_at < messages.c.next_at),
        )
        scope = messages.join(Invoice, Invoice.number == messages.c.invoice_number).outerjoin(
            first_paid, first_paid.c.invoice_number == messages.c.invoice_number
        )
        in_range = and_(messages.c.occurred_at >= start, messages.c.occurred_at < end)
        after = {s: dict(c) for s, c in base.pays_after_contact.items()}
        for segment, channel, sent, paid in session.execute(
            select(
                Invoice.segment,
                messages.c.channel,
                func.count(),
                func.count().filter(answered),
            )
            .select_from(scope)
            .where(in_range)
            .group_by(Invoice.segment, messages.c.channel)
        ):
            if segment in after and channel in CHANNELS and sent >= min_observations:
                after[segment][channel] = round(paid / sent, 4)
        delay = days_between(utc_date(first_paid.c.paid_at), utc_date(messages.c.occurred_at))
        delays = [
            (int(days), float(count))
            for days, count in session.execute(
                select(delay, func.count())
                .select_from(scope)
                .where(in_range, answered)
                .group_by(delay)
                .order_by(delay)
            )
            if 0 <= days < window
        ]
        unprompted, from_due = _learned_unprompted(session, first_paid, since, until)
        unprompted_by_segment = dict(base.pays_without_contact)
        for segment, (invoices, paid_alone) in unprompted.items():
            if segment in unprompted_by_segment and invoices >= min_observations:
                unprompted_by_segment[segment] = round(paid_alone / invoices, 4)
        enough_delays = sum(count for _, count in delays) >= min_observations
        enough_days = sum(count for _, count in from_due) >= min_observations
        return cls(
            response_window_days=window,
            pays_without_contact=unprompted_by_segment,
            days_from_due_without_contact=(
                tuple(from_due) if enough_days else base.days_from_due_without_contact
            ),
            pays_after_contact=after,
            delay_days=tuple(delays) if enough_delays else base.delay_days,
        )


def _learned_unprompted(
    session: Session, first_paid: Any, since: date, until: date
) -> tuple[dict[str, tuple[int, int]], list[tuple[int, float]]]:
    """Per segment (invoices issued, those paid before any message), and the days from the due
    date on which those paid."""
    first_message = (
        select(Interaction.invoice_number, func.min(Interaction.occurred_at).label("first_at"))
        .where(Interaction.kind == "message_sent")
        .group_by(Interaction.invoice_number)
        .subquery()
    )
    scope = (
        select(Invoice)
        .outerjoin(first_paid, first_paid.c.invoice_number == Invoice.number)
        .outerjoin(first_message, first_message.c.invoice_number == Invoice.number)
        .where(Invoice.issued_on >= since, Invoice.issued_on < until)
    )
    alone = and_(
        first_paid.c.paid_at.is_not(None),
        or_(first_message.c.first_at.is_(None), first_paid.c.paid_at < first_message.c.first_at),
    )
    counts = {
        segment: (int(total), int(paid))
        for segment, total, paid in session.execute(
            scope.with_only_columns(
                Invoice.segment, func.count(), func.count().filter(alone)
            ).group_by(Invoice.segment)
        )
    }
    offset = days_between(utc_date(first_paid.c.paid_at), Invoice.due_on)
    from_due = [
        (int(days), float(count))
        for days, count in session.execute(
            scope.with_only_columns(offset, func.count())
            .where(alone)
            .group_by(offset)
            .order_by(offset)
        )
    ]
    return counts, from_due


def _chance(raw: dict[str, Any], source: str, *path: str) -> float:
    value: Any = raw
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise PayerModelError(f"{source}: {'.'.join(path)} is missing")
        value = value[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise PayerModelError(f"{source}: {'.'.join(path)} must be a chance between 0 and 1")
    return float(value)


def _weights(raw: dict[str, Any], source: str, name: str) -> Weights:
    table = raw.get(name)
    if not isinstance(table, dict) or not table:
        raise PayerModelError(f"{source}: {name} must map days to weights")
    weights = []
    for key, weight in table.items():
        try:
            days = int(key)
        except ValueError as error:
            raise PayerModelError(f"{source}: {name}.{key} is not a whole number of days") from (
                error
            )
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise PayerModelError(f"{source}: {name}.{key} must be a non-negative weight")
        weights.append((days, float(weight)))
    if sum(weight for _, weight in weights) <= 0:
        raise PayerModelError(f"{source}: {name} has no positive weight")
    return tuple(sorted(weights))
