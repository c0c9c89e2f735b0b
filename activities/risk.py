"""The risk review's activities: score every customer, and tell a customer's running invoice
workflows that the segment moved. Thin shells: the score is ``analytics.risk``, the queries are
``ledger.repositories.risk``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.client import Client

from activities.risk_contracts import ScoringOutcome, ScoringRequest, SegmentMove, SignalReport
from analytics.risk import assess
from api.signals import signal_invoice
from dunning_policies.registry import get_policy
from dunning_policies.segments import DEFAULT_POLICY, SEGMENT_POLICIES
from ledger.db import unit_of_work
from ledger.repositories.risk import RiskRepository
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import SegmentChange

log = structlog.get_logger()
SIGNAL_CONCURRENCY = 16
HEARTBEATS_PER_TIMEOUT = 3
"""Heartbeat this many times per heartbeat timeout: one lost or late beat is not a timeout."""


@dataclass
class _Progress:
    """How far the scoring thread got; written by that thread, read by the heartbeats."""

    phase: str = "reading"
    scored: int = 0
    customers: int = 0


class RiskActivities:
    def __init__(self, sessions: sessionmaker[Session], client: Client) -> None:
        self._sessions = sessions
        self._client = client

    @activity.defn(name="score_customers")
    async def score_customers(self, request: ScoringRequest) -> ScoringOutcome:
        """Score every customer, save the scores, move the segments; the moves are returned.

        The whole book runs on a thread while the activity heartbeats its progress, so a worker
        that died is noticed within the heartbeat timeout, not the start-to-close one. A beat
        proves the worker is alive, not that a query moves (one SQL statement reports nothing
        while it runs): the start-to-close timeout bounds a hung query."""
        progress = _Progress()
        work = asyncio.ensure_future(asyncio.to_thread(self._score, request.at, progress))
        timeout = activity.info().heartbeat_timeout if activity.in_activity() else None
        if not timeout:
            return await work
        every = timeout.total_seconds() / HEARTBEATS_PER_TIMEOUT
        while not (await asyncio.wait({work}, timeout=every))[0]:
            activity.heartbeat(progress.phase, progress.scored, progress.customers)
        return work.result()

    def _score(self, at: datetime, progress: _Progress) -> ScoringOutcome:
        with unit_of_work(self._sessions) as session:
            repository = RiskRepository.from_session(session)
            behaviours = repository.behaviour(at)
            progress.phase, progress.customers = "scoring", len(behaviours)
            scores = []
            for behaviour in behaviours:
                scores.append(assess(behaviour))
                progress.scored += 1
            progress.phase = "saving"
            repository.save(scores, at)
        moves = tuple(
            SegmentMove(
                customer_id=s.customer_id,
                from_segment=s.previous_segment or "",
                to_segment=s.segment,
                score=s.score,
            )
            for s in scores
            if s.changed and s.previous_segment is not None
        )
        log.info("customers scored", scored=len(scores), moved=len(moves))
        return ScoringOutcome(scored=len(scores), moves=moves)

    @activity.defn(name="signal_segment_change")
    async def signal_segment_change(self, move: SegmentMove) -> SignalReport:
        """Signal ``change_segment`` to each open invoice of the customer. A customer with a
        policy of their own keeps it: the segment does not choose their policy."""
        override, workflows = await asyncio.to_thread(self._open_workflows, move.customer_id)
        if override is not None:
            return SignalReport(
                customer_id=move.customer_id,
                signalled=0,
                not_running=0,
                skipped_reason=f"policy override {override}",
            )
        policy = get_policy(SEGMENT_POLICIES.get(move.to_segment, DEFAULT_POLICY))
        change = SegmentChange(
            segment=move.to_segment,
            policy=policy,
            reason=f"risk score {move.score}: {move.from_segment} → {move.to_segment}",
        )
        gate = asyncio.Semaphore(SIGNAL_CONCURRENCY)

        async def one(workflow_id: str) -> bool:
            async with gate:
                return await signal_invoice(
                    self._client, workflow_id, InvoiceDunningWorkflow.change_segment, change
                )

        delivered = await asyncio.gather(*(one(workflow_id) for _, workflow_id in workflows))
        log.info(
            "segment change signalled",
            customer=move.customer_id,
            segment=move.to_segment,
            signalled=sum(delivered),
            not_running=len(delivered) - sum(delivered),
        )
        return SignalReport(
            customer_id=move.customer_id,
            signalled=sum(delivered),
            not_running=len(delivered) - sum(delivered),
        )

    def _open_workflows(self, customer_id: str) -> tuple[str | None, list[tuple[str, str]]]:
        with unit_of_work(self._sessions) as session:
            repository = RiskRepository.from_session(session)
            return repository.policy_override(customer_id), repository.open_invoice_workflows(
                customer_id
            )
