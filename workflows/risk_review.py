"""The risk review: score every customer, then tell the running invoices of each customer whose
segment moved. Started by the ``risk-review`` Temporal Schedule (``dunning risk schedule``) or
at once (``dunning risk review``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.risk_contracts import RiskReviewActivities, ScoringRequest, SignalReport

from workflows.retries import (
    LEDGER_RETRY,
    SCORING_HEARTBEAT_TIMEOUT,
    SCORING_START_TO_CLOSE,
    SEGMENT_SIGNAL_START_TO_CLOSE,
)

RISK_REVIEW_SCHEDULE = "risk-review"


class RiskReviewInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RiskReviewOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    scored: int
    moved: int
    signalled: int
    not_running: int
    reports: tuple[SignalReport, ...] = ()


@workflow.defn
class RiskReviewWorkflow:
    @workflow.run
    async def run(self, request: RiskReviewInput) -> RiskReviewOutcome:
        scoring = await workflow.execute_activity_method(
            RiskReviewActivities.score_customers,
            ScoringRequest(at=workflow.now()),
            start_to_close_timeout=SCORING_START_TO_CLOSE,
            heartbeat_timeout=SCORING_HEARTBEAT_TIMEOUT,
            retry_policy=LEDGER_RETRY,
        )
        reports = []
        # One customer at a time: a review that moves many customers must not flood the
        # server with signals; each activity already signals the customer's invoices together.
        for move in scoring.moves:
            reports.append(
                await workflow.execute_activity_method(
                    RiskReviewActivities.signal_segment_change,
                    move,
                    start_to_close_timeout=SEGMENT_SIGNAL_START_TO_CLOSE,
                    retry_policy=LEDGER_RETRY,
                )
            )
        return RiskReviewOutcome(
            scored=scoring.scored,
            moved=len(scoring.moves),
            signalled=sum(r.signalled for r in reports),
            not_running=sum(r.not_running for r in reports),
            reports=tuple(reports),
        )
