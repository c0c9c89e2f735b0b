"""What the risk review's workflow asks of its activities: their names and typed messages.
The workflow imports only this module (the implementations touch the ledger), as the invoice
workflow imports ``activities.contracts``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict
from temporalio import activity


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScoringRequest(_Message):
    at: datetime


class SegmentMove(_Message):
    customer_id: str
    from_segment: str
    to_segment: str
    score: int


class ScoringOutcome(_Message):
    scored: int
    moves: tuple[SegmentMove, ...]


class SignalReport(_Message):
    customer_id: str
    signalled: int
    not_running: int
    skipped_reason: str | None = None


class RiskReviewActivities(Protocol):
    @activity.defn(name="score_customers")
    async def score_customers(self, request: ScoringRequest) -> ScoringOutcome: ...

    @activity.defn(name="signal_segment_change")
    async def signal_segment_change(self, move: SegmentMove) -> SignalReport: ...
