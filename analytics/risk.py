"""A customer's risk score (0–100) from how they have paid, and the segment it puts them in.

What weighs, over the year before the scoring day (weights sum to 100):

====================================  ======  ==================================================
late payer                            30      share of invoices paid more than 30 days late
how late                              25      average days late, full weight at 30 days or more
broken promises                       15      promises broken in the year, full weight at 3
money long overdue                    20      share of the open balance 60+ days past due
getting worse                         10      average days late of the last 90 days minus that
                                              of the 275 before, full weight at +30 days
====================================  ======  ==================================================

Segments by score, with hysteresis: the boundaries are 15 (preferred | standard) and 50
(standard | high_risk), and a customer must cross a boundary by ``MARGIN`` (5 points) to move
across it. So a standard customer becomes preferred below 10 and high-risk from 55; a preferred
customer leaves preferred from 20; a high-risk customer leaves high-risk below 45. A score that
wobbles around a boundary from one day to the next never flips the customer's policy back and
forth. A customer with fewer than ``MIN_PAID_INVOICES`` paid invoices in the year and nothing
long overdue keeps the segment they have: too little behaviour to judge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LATE_DAYS = 30
WEIGHT_LATE_SHARE = 30
WEIGHT_DAYS_LATE = 25
WEIGHT_BROKEN_PROMISES = 15
WEIGHT_LONG_OVERDUE = 20
WEIGHT_TREND = 10
FULL_DAYS_LATE = 30.0
FULL_BROKEN_PROMISES = 3
FULL_TREND_DAYS = 30.0

PREFERRED_BELOW = 15
HIGH_RISK_FROM = 50
MARGIN = 5
MIN_PAID_INVOICES = 3


@dataclass(frozen=True)
class CustomerBehaviour:
    """What the ledger says about one customer over the year before the scoring day."""

    customer_id: str
    segment: str | None
    paid_count: int = 0
    paid_late_count: int = 0
    """Paid more than 30 days after the due date."""
    average_days_late: float | None = None
    broken_promises: int = 0
    open_minor: int = 0
    overdue_60_minor: int = 0
    recent_days_late: float | None = None
    """Average days late of the invoices paid in the last 90 days."""
    earlier_days_late: float | None = None
    """Average days late of the invoices paid in the 275 days before those."""


@dataclass(frozen=True)
class RiskScore:
    customer_id: str
    score: int
    segment: str
    previous_segment: str | None
    reasons: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.previous_segment is not None and self.segment != self.previous_segment


def _clip(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def score(behaviour: CustomerBehaviour) -> tuple[int, dict[str, float | int | str]]:
    """The score and the points each part gave (the ``reasons``)."""
    b = behaviour
    late_share = b.paid_late_count / b.paid_count if b.paid_count else 0.0
    days_late = _clip((b.average_days_late or 0.0) / FULL_DAYS_LATE)
    promises = _clip(b.broken_promises / FULL_BROKEN_PROMISES)
    long_overdue = _clip(b.overdue_60_minor / b.open_minor) if b.open_minor else 0.0
    trend = 0.0
    if b.recent_days_late is not None and b.earlier_days_late is not None:
        trend = _clip((b.recent_days_late - b.earlier_days_late) / FULL_TREND_DAYS)
    parts = {
        "late_share": WEIGHT_LATE_SHARE * late_share,
        "days_late": WEIGHT_DAYS_LATE * days_late,
        "broken_promises": WEIGHT_BROKEN_PROMISES * promises,
        "long_overdue": WEIGHT_LONG_OVERDUE * long_overdue,
        "trend": WEIGHT_TREND * trend,
    }
    total = round(sum(parts.values()))
    reasons: dict[str, float | int | str] = {name: round(p, 1) for name, p in parts.items()}
    reasons.update(
        paid_invoices=b.paid_count,
        paid_over_30_days_late=b.paid_late_count,
        average_days_late=round(b.average_days_late or 0.0, 1),
        broken_promises_last_year=b.broken_promises,
    )
    return min(max(total, 0), 100), reasons


def segment_for_score(points: int, current: str | None) -> str:
    """The segment for ``points``, given the customer's ``current`` one (the hysteresis)."""
    current = current if current in ("preferred", "standard", "high_risk") else "standard"
    if current == "preferred":
        if points >= HIGH_RISK_FROM + MARGIN:
            return "high_risk"
        return "standard" if points >= PREFERRED_BELOW + MARGIN else "preferred"
    if current == "high_risk":
        if points < PREFERRED_BELOW - MARGIN:
            return "preferred"
        return "standard" if points < HIGH_RISK_FROM - MARGIN else "high_risk"
    if points < PREFERRED_BELOW - MARGIN:
        return "preferred"
    return "high_risk" if points >= HIGH_RISK_FROM + MARGIN else "standard"


def assess(behaviour: CustomerBehaviour) -> RiskScore:
    points, reasons = score(behaviour)
    current = behaviour.segment
    enough = behaviour.paid_count >= MIN_PAID_INVOICES or behaviour.overdue_60_minor > 0
    if enough:
        segment = segment_for_score(points, current)
    else:
        segment = current if current in ("preferred", "standard", "high_risk") else "standard"
        reasons["kept"] = "too little history to move"
    return RiskScore(behaviour.customer_id, points, segment, current, reasons)
