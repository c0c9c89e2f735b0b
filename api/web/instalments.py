"""A payment plan as a collector types it: the amount, how many instalments, the first date and
how often. The instalments add up to the amount exactly; the last one takes the remainder."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

from dunning_policies.money import from_minor, to_minor
from dunning_policies.state import Instalment

FREQUENCIES = ("monthly", "biweekly", "weekly")


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def split_instalments(
    total: Decimal, currency: str, count: int, first_due: date, frequency: str
) -> tuple[Instalment, ...]:
    if count < 1:
        raise ValueError("count must be at least 1")
    if frequency not in FREQUENCIES:
        raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}")
    minor = to_minor(total, currency)
    share, remainder = divmod(minor, count)
    if share == 0:
        raise ValueError(f"{total} cannot be split into {count} instalments")

    def due(index: int) -> date:
        if frequency == "monthly":
            return add_months(first_due, index)
        return first_due + timedelta(days=index * (7 if frequency == "weekly" else 14))

    return tuple(
        Instalment(
            number=index + 1,
            due_on=due(index),
            amount=from_minor(share + (remainder if index == count - 1 else 0), currency),
        )
        for index in range(count)
    )
