"""The risk review's scoring activity heartbeats while its thread scores the book, so a dead
worker is noticed within ``SCORING_HEARTBEAT_TIMEOUT``; with no heartbeat timeout it sends none."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from activities.risk import RiskActivities, _Progress
from activities.risk_contracts import ScoringOutcome, ScoringRequest
from ledger.db import create_ledger_engine, make_session_factory
from tests.ledger_support import sqlite_url

REQUEST = ScoringRequest(at=datetime(2026, 12, 1, 12, tzinfo=UTC))


class SlowBook(RiskActivities):
    """Scoring that takes a while, as a large book does."""

    def _score(self, at: datetime, progress: _Progress) -> ScoringOutcome:
        progress.phase, progress.customers = "scoring", 3
        for _ in range(3):
            time.sleep(0.2)
            progress.scored += 1
        return ScoringOutcome(scored=3, moves=())


def book(kind: type[RiskActivities], tmp_path: Path) -> RiskActivities:
    """An empty ledger; no Temporal client, as scoring never signals."""
    sessions = make_session_factory(create_ledger_engine(sqlite_url(tmp_path)))
    return kind(sessions, cast(Client, None))


def environment(heartbeat_timeout: timedelta | None) -> tuple[ActivityEnvironment, list[Any]]:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_timeout=heartbeat_timeout)
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    return env, beats


async def test_scoring_heartbeats_its_progress_while_it_runs(tmp_path: Path) -> None:
    env, beats = environment(timedelta(seconds=0.3))
    outcome = await env.run(book(SlowBook, tmp_path).score_customers, REQUEST)

    assert outcome.scored == 3
    assert len(beats) >= 4  # every 0.1 s for 0.6 s
    assert all(phase == "scoring" and of == 3 for phase, _, of in beats)
    scored = [n for _, n, _ in beats]
    assert scored == sorted(scored) and scored[-1] >= 2


async def test_without_a_heartbeat_timeout_scoring_sends_none(tmp_path: Path) -> None:
    env, beats = environment(None)
    assert (await env.run(book(SlowBook, tmp_path).score_customers, REQUEST)).scored == 3
    assert beats == []


async def test_the_real_scoring_runs_under_a_heartbeat_timeout(tmp_path: Path) -> None:
    env, _ = environment(timedelta(minutes=1))
    outcome = await env.run(book(RiskActivities, tmp_path).score_customers, REQUEST)
    assert outcome == ScoringOutcome(scored=0, moves=())
