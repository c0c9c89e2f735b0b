"""The stretch of time a dashboard looks at, and its boundaries as UTC instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


def day_start(day: date) -> datetime:
    """00:00 UTC of ``day``: every day boundary of a report is a UTC midnight."""
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True)
class ReportWindow:
    """``period_days`` days ending with ``as_of`` (inclusive), in one currency.

    ``contact_days``: how far back before a payment a message may be to take the credit for it.
    """

    as_of: date
    currency: str
    period_days: int = 90
    contact_days: int = 7

    def __post_init__(self) -> None:
        if self.period_days < 1:
            raise ValueError(f"period_days must be at least 1, got {self.period_days}")
        if self.contact_days < 0:
            raise ValueError(f"contact_days must not be negative, got {self.contact_days}")

    @property
    def start_day(self) -> date:
        """The period's first day."""
        return self.as_of - timedelta(days=self.period_days - 1)

    @property
    def start_at(self) -> datetime:
        return day_start(self.start_day)

    @property
    def end_at(self) -> datetime:
        """The instant the period ends: the midnight after ``as_of``."""
        return day_start(self.as_of + timedelta(days=1))

    @property
    def closing_day(self) -> date:
        """The day whose midnight closes the period (balances are taken at that instant)."""
        return self.as_of + timedelta(days=1)

    @property
    def week_start(self) -> date:
        """Monday of ``as_of``'s week."""
        return self.as_of - timedelta(days=self.as_of.weekday())

    @property
    def week_end(self) -> date:
        """Sunday of ``as_of``'s week."""
        return self.week_start + timedelta(days=6)
