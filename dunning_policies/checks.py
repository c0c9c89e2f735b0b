"""``dunning policies check``: what makes a policy unsafe to run, in words a manager reads."""

from __future__ import annotations

from itertools import pairwise

from dunning_policies.language import Handoff, Negotiate, Policy, Remind
from dunning_policies.messages import SUPPORTED_LANGUAGES, template_exists

# Reminding more than two months ahead, or still escalating after a year, is a typo.
EARLIEST_OFFSET_DAYS = -60
LATEST_OFFSET_DAYS = 365


def _reminders(policy: Policy) -> list[Remind]:
    reminders = [s for s in policy.steps if isinstance(s, Remind)]
    if policy.broken_promise_notice is not None:
        reminders.append(policy.broken_promise_notice)
    return reminders


def check_policy(policy: Policy) -> list[str]:
    problems: list[str] = []
    ids = [step.id for step in policy.steps]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"step ids used twice: {', '.join(duplicates)}")

    timed = [s for s in policy.steps if isinstance(s, Remind | Negotiate)]
    for earlier, later in pairwise(timed):
        if later.offset_days < earlier.offset_days:
            problems.append(
                f"step {later.id!r} (day {later.offset_days}) comes after "
                f"{earlier.id!r} (day {earlier.offset_days}): steps must be in date order"
            )
    for step in timed:
        if not EARLIEST_OFFSET_DAYS <= step.offset_days <= LATEST_OFFSET_DAYS:
            problems.append(
                f"step {step.id!r}: day {step.offset_days} is outside "
                f"{EARLIEST_OFFSET_DAYS}..{LATEST_OFFSET_DAYS}"
            )

    negotiations = [s for s in policy.steps if isinstance(s, Negotiate)]
    handoffs = [i for i, s in enumerate(policy.steps) if isinstance(s, Handoff)]
    if len(negotiations) > 1:
        problems.append("a policy has at most one negotiate step (it reopens itself)")
    if handoffs:
        if len(handoffs) > 1 or handoffs[0] != len(policy.steps) - 1:
            problems.append("handoff must be the single, last step")
        if not negotiations:
            problems.append("handoff needs a negotiate step before it: a person tries first")
    if negotiations:
        negotiation = negotiations[0]
        deadline = negotiation.offset_days + negotiation.sla_days
        for step in timed:
            if isinstance(step, Remind) and step.offset_days >= deadline and handoffs:
                problems.append(
                    f"step {step.id!r} (day {step.offset_days}) falls after the handoff "
                    f"(negotiation SLA ends on day {deadline}) and would never be sent"
                )

    window = policy.window
    if not window.start <= policy.send_at < window.end:
        problems.append(
            f"send_at {policy.send_at} is outside the contact window {window.start}-{window.end}"
        )
    if not window.weekdays or not window.weekdays <= set(range(7)):
        problems.append("the contact window needs weekdays between 0 (Monday) and 6 (Sunday)")

    for reminder in _reminders(policy):
        for channel in reminder.channels:
            for language in SUPPORTED_LANGUAGES:
                if not template_exists(reminder.template, channel.value, language):
                    problems.append(
                        f"step {reminder.id!r}: no {language} template "
                        f"{reminder.template!r} for {channel.value}"
                    )
    return problems
