"""Turning policy days into instants: due-date offsets at a local time of day, and the
contact window judged in the debtor's own time zone (stored and compared in UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dunning_policies.language import ContactWindow

if TYPE_CHECKING:
    from dunning_policies.jurisdictions import ContactRules


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=8192)
def local_moment(day: date, at: time, timezone: str) -> datetime:
    """The UTC instant of ``at`` o'clock on ``day`` in ``timezone`` (remembered: every step of
    every invoice asks it again, and the simulator asks it millions of times)."""
    return datetime.combine(day, at, tzinfo=zone(timezone)).astimezone(UTC)


def offset_moment(due_on: date, offset_days: float, send_at: time, timezone: str) -> datetime:
    """A policy step's moment. Whole days: ``send_at`` on that local calendar day (the same
    wall-clock hour across a DST change). A fraction of a day: the due moment plus that span of
    time, so a policy can run in minutes (the soak test compresses time this way)."""
    if float(offset_days).is_integer():
        return local_moment(due_on + timedelta(days=int(offset_days)), send_at, timezone)
    return local_moment(due_on, send_at, timezone) + timedelta(days=offset_days)


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


def _why_closed(day: date, local: datetime, window: ContactWindow, rules: ContactRules) -> str:
    if rules.avoid_holidays and day in rules.holidays:
        name = rules.holidays[day]
        return f"{day.isoformat()} is a public holiday ({name}): {rules.holidays_source}"
    if day.weekday() not in window.weekdays:
        return f"{day:%A} is not a contact day: {rules.window_source}"
    return f"{local:%H:%M} is outside the contact hours: {rules.window_source}"


def next_contact_moment(
    moment: datetime, rules: ContactRules, timezone: str
) -> tuple[datetime, str | None]:
    """The first instant at or after ``moment`` inside the rules' hours and days and not on a
    holiday, with the reason it moved (``None`` when it did not)."""
    tz = zone(timezone)
    local = moment.astimezone(tz)
    window = rules.window
    if window.start >= window.end or not window.weekdays:
        raise ValueError(f"{rules.name}: the contact window {window} never opens")
    reasons: list[str] = []
    for day_offset in range(60):
        day = local.date() + timedelta(days=day_offset)
        opens = datetime.combine(day, window.start, tzinfo=tz)
        closes = datetime.combine(day, window.end, tzinfo=tz)
        open_day = day.weekday() in window.weekdays and not (
            rules.avoid_holidays and day in rules.holidays
        )
        candidate = max(opens, local) if day_offset == 0 else opens
        if open_day and candidate < closes:
            if day_offset == 0 and candidate > local:
                # Early on an open day: it waits for the opening, and says so.
                reasons.append(_why_closed(day, local, window, rules))
            return candidate.astimezone(UTC), "; ".join(reasons) or None
        reasons.append(_why_closed(day, local if day_offset == 0 else opens, window, rules))
    raise ValueError(f"{rules.name}: no contact day within 60 days of {local.date()}")


def _open_day(day: date, rules: ContactRules) -> bool:
    return day.weekday() in rules.window.weekdays and not (
        rules.avoid_holidays and day in rules.holidays
    )


def why_waited(since: datetime, moment: datetime, rules: ContactRules, timezone: str) -> str | None:
    """Why a contact owed since ``since`` is made only at ``moment``: the reason the rules kept
    the stretch just before ``moment`` closed, when ``moment`` is the opening that ends it and
    the contact was owed during it; else ``None``.

    Judged from ``moment`` itself, not from when someone first asked: the workflow decides again
    when it wakes up at the opening, and the message it sends then must still say why it waited.
    """
    tz = zone(timezone)
    local = moment.astimezone(tz)
    window = rules.window
    if local.time() != window.start or not _open_day(local.date(), rules):
        return None
    origin = since.astimezone(tz)
    for days_back in range(1, 60):
        day = local.date() - timedelta(days=days_back)
        if _open_day(day, rules):
            origin = max(origin, datetime.combine(day, window.end, tzinfo=tz))
            break
    if origin >= local:
        return None
    return next_contact_moment(origin, rules, timezone)[1]
