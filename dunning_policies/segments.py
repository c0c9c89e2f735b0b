"""Which policy an invoice follows: the customer's own override first, then the segment's,
then the default. The segment is the customer's if set, else derived from payment behaviour."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_POLICY = "standard"

SEGMENT_POLICIES: dict[str, str] = {
    "preferred": "preferred",
    "standard": "standard",
    "high_risk": "high_risk",
}

SEGMENTS = tuple(SEGMENT_POLICIES)

# Three invoices paid late in a year makes a repeat late payer.
REPEAT_LATE_PAYMENTS = 3


@dataclass(frozen=True)
class CustomerProfile:
    segment: str | None = None
    policy_override: str | None = None
    late_payments_last_year: int = 0
    broken_promises_last_year: int = 0


def segment_for(profile: CustomerProfile) -> str:
    if profile.segment:
        if profile.segment not in SEGMENT_POLICIES:
            raise ValueError(
                f"unknown segment {profile.segment!r}; known segments: {', '.join(SEGMENTS)}"
            )
        return profile.segment
    if (
        profile.late_payments_last_year >= REPEAT_LATE_PAYMENTS
        or profile.broken_promises_last_year > 0
    ):
        return "high_risk"
    return "standard"


def policy_name_for(profile: CustomerProfile) -> str:
    if profile.policy_override:
        return profile.policy_override
    return SEGMENT_POLICIES.get(segment_for(profile), DEFAULT_POLICY)
