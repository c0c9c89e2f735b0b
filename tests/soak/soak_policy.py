"""A policy that runs in under a minute: the soak test's compressed time.

Offsets are fractions of a day from the due moment (the engine reads a fractional offset as a
span of time, see ``dunning_policies.calendar.offset_moment``). It is built per run, with
``send_at`` a few seconds ahead of the clock, so the due moment is "soon" whatever the hour.

It is not in ``dunning_policies/policies/``: the product's policy list is what operators choose
from, and a one-minute policy has no business there. The worker needs no registration either: a
workflow carries its policy in its input (which is what keeps running invoices on the version
they started with). Only the process that issues the invoices looks the name up, and the test
adds it there.
"""

from __future__ import annotations

from datetime import time

from dunning_policies.language import (
    Channel,
    ContactWindow,
    Handoff,
    Negotiate,
    Policy,
    Remind,
    Tone,
)

SOAK_POLICY_NAME = "soak_compressed_time"
SECOND = 1 / 86_400
"""One second, in the policy language's unit (days)."""

REMINDER_OFFSETS = (0.0, 10 * SECOND, 20 * SECOND)
NEGOTIATION_OFFSET = 30 * SECOND
NEGOTIATION_SLA = 20 * SECOND
PAYMENT_AFTER_SECONDS = 15
"""When the test pays its "paid" invoices: after the second reminder, before the third."""
LAST_STEP_SECONDS = (NEGOTIATION_OFFSET + NEGOTIATION_SLA) / SECOND
"""When the last invoice's handoff is due, counted from the due moment."""

ALWAYS_OPEN = ContactWindow(start=time(0, 0), end=time(23, 59, 59), weekdays=frozenset(range(7)))


def soak_policy(send_at: time) -> Policy:
    """Three reminders 10 s apart, a collector task whose 20 s SLA lapses, then the agency."""
    reminders = tuple(
        Remind(
            id=f"soak_reminder_{n}",
            offset_days=offset,
            channels=(Channel.EMAIL,),
            template=template,
            tone=tone,
        )
        for n, (offset, template, tone) in enumerate(
            zip(
                REMINDER_OFFSETS,
                ("due_today", "overdue", "overdue"),
                (Tone.FRIENDLY, Tone.NEUTRAL, Tone.FIRM),
                strict=True,
            ),
            start=1,
        )
    )
    return Policy(
        name=SOAK_POLICY_NAME,
        version=1,
        description="Soak tests only: the dunning pipeline in a minute.",
        steps=(
            *reminders,
            Negotiate(
                id="soak_collector_call",
                offset_days=NEGOTIATION_OFFSET,
                queue="standard",
                sla_days=NEGOTIATION_SLA,
                max_attempts=1,
            ),
            Handoff(id="soak_agency", agency="Agencia de Prueba SpA"),
        ),
        send_at=send_at,
        window=ALWAYS_OPEN,
    )
