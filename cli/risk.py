"""``dunning risk``: the customers' risk scores, and the Temporal Schedule that recomputes them.

``schedule`` creates (or updates) the ``risk-review`` schedule: every interval it starts a
``RiskReviewWorkflow``, skipped while the previous review still runs. ``review`` runs one now
and waits for it; ``scores`` lists the scores the last review wrote.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.table import Table
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from cli.runtime import console, fail, print_json, run, runtime
from ledger.db import unit_of_work
from ledger.repositories.risk import RiskRepository
from workflows.risk_review import (
    RISK_REVIEW_SCHEDULE,
    RiskReviewInput,
    RiskReviewOutcome,
    RiskReviewWorkflow,
)

app = typer.Typer(help="Customer risk: scores, segments and their schedule.", no_args_is_help=True)
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_every(text: str) -> timedelta:
    """``30m``, ``6h``, ``1d``."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhd])\s*", text)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"--every {text!r}: say a number and m, h or d (e.g. 1d, 6h)")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def review_schedule(every: timedelta, task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RiskReviewWorkflow.run,
            RiskReviewInput(),
            id=f"{RISK_REVIEW_SCHEDULE}-run",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_schedule(client: Client, every: timedelta, task_queue: str) -> str:
    """Create the ``risk-review`` schedule, or update it to ``every``: says which it did."""
    schedule = review_schedule(every, task_queue)
    try:
        await client.create_schedule(RISK_REVIEW_SCHEDULE, schedule)
        return "created"
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(RISK_REVIEW_SCHEDULE).update(replace)
        return "updated"


@app.command()
def schedule(
    every: Annotated[str, typer.Option(help="How often: 30m, 6h, 1d.")] = "1d",
) -> None:
    """Create or update the Temporal Schedule that recomputes the risk scores."""
    try:
        interval = parse_every(every)
    except ValueError as error:
        fail(str(error))
    rt = runtime()

    async def go() -> None:
        client = await rt.client()
        outcome = await ensure_schedule(client, interval, rt.settings.task_queue)
        console.print(f"schedule {RISK_REVIEW_SCHEDULE} {outcome}: every {every}", highlight=False)

    run(go)


@app.command()
def review(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Score every customer now and signal the segment changes; wait for the result."""
    rt = runtime()

    async def go() -> None:
        client = await rt.client()
        outcome: RiskReviewOutcome = await client.execute_workflow(
            RiskReviewWorkflow.run,
            RiskReviewInput(),
            id=f"{RISK_REVIEW_SCHEDULE}-now-{uuid.uuid4().hex[:8]}",
            task_queue=rt.settings.task_queue,
        )
        if as_json:
            print_json(outcome.model_dump(mode="json"))
            return
        console.print(
            f"{outcome.scored} customers scored, {outcome.moved} changed segment; "
            f"{outcome.signalled} running invoices told, {outcome.not_running} already closed",
            highlight=False,
        )

    run(go)


@app.command()
def scores(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The customers' latest risk scores, highest first."""
    rt = runtime()
    with unit_of_work(rt.sessions) as session:
        rows: list[dict[str, Any]] = [
            {
                "customer_id": r.customer_id,
                "score": r.score,
                "segment": r.segment,
                "scored_at": r.scored_at.isoformat(),
                "reasons": r.reasons,
            }
            for r in RiskRepository.from_session(session).list_scores()
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no scores yet: run `dunning risk review`")
        return
    table = Table("customer", "score", "segment", "scored at", "what weighed")
    for row in rows:
        reasons = row["reasons"]
        parts = ("late_share", "days_late", "broken_promises", "long_overdue", "trend")
        weighed = ", ".join(f"{p} {reasons[p]}" for p in parts if reasons.get(p))
        table.add_row(
            row["customer_id"], str(row["score"]), row["segment"], row["scored_at"], weighed
        )
    console.print(table)
