"""How long the workflows let their activities run, and how they retry them: every number here
is chosen, and docs/OPERATIONS.md ("Timeouts and retries") says why for operators.

Changing these never breaks a replay: Temporal does not compare activity options with history.
An activity already scheduled keeps the options it was scheduled with.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from dunning_policies.calendar import local_date, local_moment

if TYPE_CHECKING:
    from dunning_policies.jurisdictions import ContactRules

# --- sending a message (send_message) ---

SEND_START_TO_CLOSE = timedelta(minutes=2)
"""One attempt: a provider call is bounded by the SDK's own timeout, ``provider_timeout_seconds``
(15 s) per phase, so up to ~30 s for connect plus read; add the wait for a provider thread and
the two outbox writes. It must exceed the provider call by a wide margin: an attempt cut off
while its HTTP request is still in flight may have sent the message, and the retry would send
it again (the outbox row is still pending, and neither provider dedupes). A worker killed
mid-send is noticed sooner, by its missing heartbeats (``SEND_HEARTBEAT_TIMEOUT``)."""

SEND_HEARTBEAT_TIMEOUT = timedelta(seconds=20)
"""The send heartbeats every 2 s while it waits on the provider or the outbox: a worker that died
(SIGKILL, a lost node) is noticed in 20 s and the message is retried on another worker, instead
of waiting out ``SEND_START_TO_CLOSE``. A live worker keeps beating while its provider call is
in flight, so a retry never overlaps a live attempt."""

SEND_RETRY = RetryPolicy(
    # A blip (one 5xx, a dropped connection) costs seconds: tests/workflows/test_providers.py.
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    # 5, 10, 20 … 160 s, then every 5 min: a provider back up gets the message within 5 min,
    # and one that is down or rate limiting (429) is not hammered (~100 tries in 8 h).
    maximum_interval=timedelta(minutes=5),
    # No count: the bound is a time, ``send_time_limit``, because an outage is measured in time.
    maximum_attempts=0,
)
"""A transient failure (5xx, 429, timeout, refused connection: ``DeliveryDeferred``) retries the
same channel; a permanent one (``DeliveryRejected``) is an answer, not an error, and the contact
workflow moves to the next channel at once."""

SEND_OUTAGE_LIMIT = timedelta(hours=8)
"""The longest a message keeps retrying on its channel: a working day. Provider outages last
minutes to hours, and the channel the policy chose is the one to wait for; a message that
cannot go out within the day falls back to the next channel instead of going out stale."""


def send_time_limit(
    now: datetime, rules: ContactRules | None, timezone: str, *, respect_rules: bool = True
) -> timedelta:
    """The send's schedule-to-close timeout: ``SEND_OUTAGE_LIMIT``, and never past the close of
    the debtor's contact window today, so that no retry delivers a message at an hour the law
    (or the policy) forbids; the fallback channel then goes at the next opening. Less one
    attempt's length, so an attempt cut off at the deadline has ended before the window closes.

    A send decided in the window's last minutes still gets its one attempt."""
    limit = SEND_OUTAGE_LIMIT
    if rules is not None and respect_rules:
        closes = local_moment(local_date(now, timezone), rules.window.end, timezone)
        limit = min(limit, closes - now - SEND_START_TO_CLOSE)
    return max(limit, SEND_START_TO_CLOSE)


# --- the ledger (record_progress, request_contact) ---

LEDGER_START_TO_CLOSE = timedelta(seconds=30)
"""A few rows in one grouped commit, or a signal-with-start: milliseconds. 30 s is a database or
Temporal frontend that is not answering, and the next attempt goes to a fresh connection."""

LEDGER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
"""Unlimited attempts: the bitácora and the contact queue may not skip a write, and there is no
fallback for the ledger. A database outage only delays the workflow; it resumes within a minute
of recovery. Bugs show as failing activity attempts in the alerts (docs/OPERATIONS.md)."""

# --- the risk review ---

SCORING_START_TO_CLOSE = timedelta(minutes=30)
"""Scoring the whole book: four grouped queries, the score of each customer, one bulk upsert.
Seconds for tens of thousands of customers; 30 min is a hung query, not a big book."""

SCORING_HEARTBEAT_TIMEOUT = timedelta(minutes=1)
"""The scoring activity heartbeats while its thread works (``activities/risk.py``), so a worker
that died is noticed in a minute instead of at ``SCORING_START_TO_CLOSE``."""

SEGMENT_SIGNAL_START_TO_CLOSE = timedelta(minutes=2)
"""Signals to one customer's open invoices, 16 at a time: seconds even for a customer with
thousands. Short and bounded by one customer, so no heartbeat."""
