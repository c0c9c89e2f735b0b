"""The baseline: a bare workflow that only replays the *shape* of one dunning lifecycle.

It does the same number of durable timers and activity calls, in the same order, as one real
run of ``InvoiceDunningWorkflow`` (counted from its history by ``bench.lifecycle``), with
none of the product's work: no policy engine, no ledger, no templates, no search attributes.
Timers fire at the same absolute instants for every workflow of a batch, like the real ones
(which wait for "10:00 local on day X"), so the time-skipping server fires them together.

This module is imported by the worker sandbox: keep it free of I/O and of project imports.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict
from temporalio import activity, workflow

NOOP_ACTIVITY = "bench_noop"
MIN_TIMER = timedelta(milliseconds=1)


class BareStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["activity", "timer"]
    fire_at: datetime | None = None
    """For a timer: the absolute instant it fires (same for every workflow of a batch)."""


class BareLifecycleInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    steps: tuple[BareStep, ...]


@activity.defn(name=NOOP_ACTIVITY)
async def noop(key: str) -> None:
    """Does nothing. A coroutine, like the product's activities, so the worker runs it the
    same way (on its event loop, no thread)."""
    del key


@workflow.defn
class BareLifecycleWorkflow:
    @workflow.run
    async def run(self, start: BareLifecycleInput) -> int:
        done = 0
        for index, step in enumerate(start.steps):
            if step.kind == "timer":
                assert step.fire_at is not None
                await workflow.sleep(max(step.fire_at - workflow.now(), MIN_TIMER))
            else:
                await workflow.execute_activity(
                    noop, f"{start.key}:{index}", start_to_close_timeout=timedelta(seconds=30)
                )
            done += 1
        return done
