"""Turning policy days into instants: due-date offsets at a local time of day, and the
contact window judged in the debtor's own time zone (stored and compared in UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dunning_policies.language import ContactWindow


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_moment(day: date, at: time, timezone: str) -> datetime:
    """The UTC instant of ``at`` o'clock on ``day`` in ``timezone``."""
    return datetime.combine(day, at, tzinfo=zone(timezone)).astimezone(UTC)


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(zone(timezone)).date()


def days_past_due(due_on: date, moment: datetime, timezone: str) -> int:
    return (local_date(moment, timezone) - due_on).days


def next_allowed_moment(moment: datetime, window: ContactWindow, timezone: str) -> datetime:
    """``moment`` if it falls inside the window, else the next opening of the window."""
    tz = zone(timezone)
    local = moment.astimezone(tz)
    for day_offset in range(8):
        day = local.date() + timedelta(days=day_offset)
        if day.weekday() not in window.weekdays:
            continue
        opens = datetime.combine(day, window.start, tzinfo=tz)
        closes = datetime.combine(day, window.end, tzinfo=tz)
        if day_offset == 0 and local >= closes:
            continue
        return max(opens, local).astimezone(UTC) if day_offset == 0 else opens.astimezone(UTC)
    raise ValueError(f"contact window {window} allows no day of the week")
