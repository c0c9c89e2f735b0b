"""The baseline: bare workflows that only replay the *shape* of one dunning lifecycle.

A lifecycle is two workflows: the invoice's (``InvoiceDunningWorkflow``) and its customer's
(``CustomerContactWorkflow``, which the invoice reaches through the ``request_contact``
activity, a signal-with-start, and which signals each message's result back). The baseline
is a pair of ``BareLifecycleWorkflow`` runs, one per history: each does the same durable
timers, activity calls and signals, in the same order, as one real run of its counterpart
(counted from its history by ``bench.lifecycle``), with none of the product's work: no
policy or contact engine, no ledger, no templates, no search attributes.

- ``timer``: a durable timer that fires, at the same absolute instant for every workflow of a
  batch, like the real ones (which wait for "10:00 local on day X"), so the time-skipping
  server fires them together.
- ``wait``: a timer the real workflow started and a signal cancelled (the invoice waiting for
  its next step when the message's result comes in; the contact workflow idle when a request
  comes in): wait for the run's ``signals``-th signal, with the timer as the timeout.
- ``activity``: a no-op activity.
- ``request``: the bare ``request_contact``: an activity that signal-with-starts the twin (the
  bare contact workflow), as the product's does.
- ``signal``: a signal to the twin (the bare invoice workflow), as the contact workflow's
  ``contact_result``.

This module is imported by the worker sandbox: keep it free of I/O and of project imports.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict
from temporalio import activity, workflow

NOOP_ACTIVITY = "bench_noop"
REQUEST_ACTIVITY = "bench_request"
POKE_SIGNAL = "bench_poke"
WORKFLOW_NAME = "BareLifecycleWorkflow"
MIN_TIMER = timedelta(milliseconds=1)


class BareStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["activity", "request", "timer", "wait", "signal"]
    fire_at: datetime | None = None
    """For a timer or a wait: the absolute instant it fires (same for every workflow of a
    batch)."""
    signals: int = 0
    """For a wait: the number of signals this run has received when it ends."""
    run: int = 0
    """For a request: which run of the twin the request reaches (a contact workflow ends when
    nothing is queued and no past contact counts; the next request starts a new run)."""


class BareLifecycleInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    runs: tuple[tuple[BareStep, ...], ...]
    """The steps of each run; a workflow started by a request (``by_request``) takes the run
    its first signal names, the others the first."""
    by_request: bool = False
    park: bool = False
    """Stay open after the last step, as the real workflow did (the invoice after its
    handoff, a contact workflow whose last contact still counts)."""
    twin_id: str | None = None
    twin: BareLifecycleInput | None = None
    """What a ``request`` starts the twin with."""


class BareRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str
    start: BareLifecycleInput
    run: int


@activity.defn(name=NOOP_ACTIVITY)
async def noop(key: str) -> None:
    """Does nothing. A coroutine, like the product's activities, so the worker runs it the
    same way (on its event loop, no thread)."""
    del key


@activity.defn(name=REQUEST_ACTIVITY)
async def request(delivery: BareRequest) -> None:
    """The bare ``request_contact``: the same signal-with-start, of the bare twin."""
    await activity.client().start_workflow(
        WORKFLOW_NAME,
        delivery.start,
        id=delivery.workflow_id,
        task_queue=activity.info().task_queue,
        start_signal=POKE_SIGNAL,
        start_signal_args=[delivery.run],
    )


@workflow.defn(name=WORKFLOW_NAME)
class BareLifecycleWorkflow:
    def __init__(self) -> None:
        self._signals = 0
        self._run: int | None = None

    @workflow.signal(name=POKE_SIGNAL)
    def poke(self, run: int) -> None:
        self._signals += 1
        if self._run is None:
            self._run = run

    @workflow.run
    async def run(self, start: BareLifecycleInput) -> int:
        if start.by_request:
            await workflow.wait_condition(lambda: self._run is not None)
            assert self._run is not None
            steps = start.runs[self._run]
        else:
            steps = start.runs[0]
        done = 0
        for index, step in enumerate(steps):
            if step.kind == "timer":
                assert step.fire_at is not None
                await workflow.sleep(max(step.fire_at - workflow.now(), MIN_TIMER))
            elif step.kind == "wait":
                assert step.fire_at is not None
                await self._wait(step.signals, max(step.fire_at - workflow.now(), MIN_TIMER))
            elif step.kind == "activity":
                await workflow.execute_activity(
                    noop, f"{start.key}:{index}", start_to_close_timeout=timedelta(seconds=30)
                )
            elif step.kind == "request":
                assert start.twin_id is not None and start.twin is not None
                await workflow.execute_activity(
                    request,
                    BareRequest(workflow_id=start.twin_id, start=start.twin, run=step.run),
                    start_to_close_timeout=timedelta(seconds=30),
                )
            else:
                assert start.twin_id is not None
                await workflow.get_external_workflow_handle(start.twin_id).signal(POKE_SIGNAL, 0)
            done += 1
        if start.park:
            await workflow.wait_condition(lambda: False)
        return done

    async def _wait(self, signals: int, timeout: timedelta) -> None:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._signals >= signals, timeout=timeout)
