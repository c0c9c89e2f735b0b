"""The engine's reading of policy offsets: whole days land on a local calendar day at
``send_at`` (across a DST change too); a fraction of a day is a span of time from the due
moment, which is how the soak policy runs in a minute."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from dunning_policies.calendar import offset_moment
from tests.soak.soak_policy import SECOND, soak_policy

SANTIAGO = "America/Santiago"
POLICY = soak_policy(time(10, 0))


def test_whole_days_keep_the_local_hour_across_a_dst_change() -> None:
    # Chile moved its clocks forward on 2026-09-06: 10:00 local is 14:00 UTC before, 13:00 after.
    due_on = date(2026, 9, 1)
    assert offset_moment(due_on, 0, POLICY.send_at, SANTIAGO) == datetime(
        2026, 9, 1, 14, tzinfo=UTC
    )
    assert offset_moment(due_on, 7, POLICY.send_at, SANTIAGO) == datetime(
        2026, 9, 8, 13, tzinfo=UTC
    )
    assert offset_moment(due_on, 7.0, POLICY.send_at, SANTIAGO) == datetime(
        2026, 9, 8, 13, tzinfo=UTC
    )
    assert offset_moment(due_on, -3, POLICY.send_at, SANTIAGO) == datetime(
        2026, 8, 29, 14, tzinfo=UTC
    )


def test_a_fraction_of_a_day_is_a_span_of_time_from_the_due_moment() -> None:
    due_on = date(2026, 9, 1)
    due_moment = datetime(2026, 9, 1, 14, tzinfo=UTC)
    assert offset_moment(due_on, 10 * SECOND, POLICY.send_at, SANTIAGO) == due_moment + timedelta(
        seconds=10
    )
    assert offset_moment(due_on, -0.5, POLICY.send_at, SANTIAGO) == due_moment - timedelta(hours=12)
    # A fraction that crosses the DST change counts real hours, not wall-clock ones.
    assert offset_moment(due_on, 6.5, POLICY.send_at, SANTIAGO) == due_moment + timedelta(days=6.5)
