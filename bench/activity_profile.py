"""The activity bodies alone: CPU per ``send_message`` / ``record_progress`` call, no Temporal.

Run from the repository root::

    .venv/bin/python -m bench.activity_profile [--invoices N] [--cprofile [--top K]]

1. capture: one real unpaid lifecycle of the standard policy on the time-skipping server
   (as ``bench.lifecycle`` calibrates: the invoice's workflow and its customer's contact
   workflow, which sends), recording every ``send_message`` and ``record_progress`` input in
   order (``request_contact``, a Temporal call, runs but is not replayed);
2. replay: N invoices issued on a fresh SQLite ledger (untimed), then that same sequence of
   inputs, the invoice's ids substituted, called directly on ``DunningActivityImpl`` step by
   step across the batch (step 1 of every invoice, then step 2 …), ``--concurrency`` calls
   at a time on one event loop with the product's ledger writer (group commit), with the
   product's JSON logging discarded as in the lifecycle bench.

The process CPU of each step (event loop and writer thread together) is summed per activity;
``--cprofile`` adds where it goes, on the loop and on the writer thread. This is the fast
loop for the activity side; ``bench.lifecycle --profile`` remains the judge.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.contracts import ProgressReport, SendRequest, SendResult
from activities.dunning import DunningActivityImpl
from api.invoicing import NewInvoice, issue_invoice
from bench.lifecycle import (
    CALIBRATION_LIMIT,
    HORIZON_DAYS,
    Knobs,
    activity_pool,
    advance_or_strand,
    customer,
    due_date_for,
    fresh_ledger,
    handoff_count,
    horizon_at,
    ours_settings,
    prepare_ours,
    quiet_logging,
    silent_senders,
    today_in_santiago,
    wait_until,
)
from config.settings import Settings
from ledger.group_commit import GroupCommit
from tests.temporal_support import binary, register_search_attributes
from workflows.customer_contact import CustomerContactWorkflow
from workflows.invoice import InvoiceDunningWorkflow

CAPTURE_NUMBER = "CAL-0"


@dataclass(frozen=True)
class Captured:
    """One activity call of the captured lifecycle, as JSON with the invoice's ids in it."""

    name: str
    payload: str


@dataclass(frozen=True)
class Identity:
    invoice_number: str
    customer_id: str
    workflow_id: str


class Recording(DunningActivityImpl):
    """The real activities, remembering what they were asked."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.calls: list[Captured] = []

    @activity.defn(name="send_message")
    async def send_message(self, request: SendRequest) -> SendResult:
        self.calls.append(Captured("send_message", request.model_dump_json()))
        return await super().send_message(request)

    @activity.defn(name="record_progress")
    async def record_progress(self, report: ProgressReport) -> None:
        self.calls.append(Captured("record_progress", report.model_dump_json()))
        await super().record_progress(report)


class ProfiledWriter(GroupCommit):
    """The product's ledger writer, its batches profiled on its own thread."""

    def __init__(self, sessions: sessionmaker[Session], profiler: cProfile.Profile | None):
        super().__init__(sessions)
        self._profiler = profiler
        self.cpu_seconds = 0.0
        self.units = 0

    def _commit(self, batch: Any) -> Any:
        began = time.thread_time()
        if self._profiler is not None:
            self._profiler.enable()
        try:
            return super()._commit(batch)
        finally:
            if self._profiler is not None:
                self._profiler.disable()
            self.cpu_seconds += time.thread_time() - began
            self.units += len(batch)


async def capture(directory: Path) -> tuple[Identity, list[Captured], date, date]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        await register_search_attributes(env.client)
        ledger, sessions = fresh_ledger(directory, "capture.db")
        today = await today_in_santiago(env)
        due = due_date_for(today)
        settings = ours_settings(Knobs(concurrency=4, threads=4))
        (issue,) = await prepare_ours(
            env, sessions, settings, [(0, CAPTURE_NUMBER)], due, today, "issue_invoice"
        )
        with activity_pool(4) as executor:
            recording = Recording(GroupCommit(sessions), silent_senders(), settings, executor)
            async with Worker(
                env.client,
                task_queue=settings.task_queue,
                workflows=[InvoiceDunningWorkflow, CustomerContactWorkflow],
                activities=[
                    recording.send_message,
                    recording.record_progress,
                    recording.request_contact,
                ],
            ):
                with env.auto_time_skipping_disabled():
                    workflow_id = await issue()
                    await advance_or_strand(env, horizon_at(due, HORIZON_DAYS), CALIBRATION_LIMIT)
                    await wait_until(lambda: handoff_count(ledger) == 1, 60, "capture")
        sessions.kw["bind"].dispose()
    finally:
        await env.shutdown()
    return Identity(CAPTURE_NUMBER, customer(0).id, workflow_id), recording.calls, today, due


def retarget(call: Captured, source: Identity, target: Identity) -> BaseModel:
    """The captured input with another invoice's ids (the workflow id first: it contains the
    invoice number)."""
    payload = (
        call.payload.replace(source.workflow_id, target.workflow_id)
        .replace(source.invoice_number, target.invoice_number)
        .replace(source.customer_id, target.customer_id)
    )
    model = SendRequest if call.name == "send_message" else ProgressReport
    return model.model_validate_json(payload)


async def issue_batch(
    sessions: sessionmaker[Session], invoices: int, today: date, due: date
) -> list[Identity]:
    """The ledger rows of N invoices, written through ``issue_invoice`` without Temporal."""
    started: list[Identity] = []

    class _Recorder:
        async def start_workflow(self, _run: Any, arg: Any, **kwargs: Any) -> None:
            started.append(Identity(arg.state.invoice_number, arg.state.customer.id, kwargs["id"]))

    for i in range(1, invoices + 1):
        details = customer(i)
        await issue_invoice(
            _Recorder(),  # type: ignore[arg-type]
            sessions,
            "bench-replay",
            NewInvoice(f"P-{i:06d}", details.id, Decimal("1250000"), "CLP", today, due),
            details,
        )
    return started


@dataclass
class Totals:
    calls: int = 0
    cpu: float = 0.0


async def replay(
    impl: DunningActivityImpl,
    source: Identity,
    calls: list[Captured],
    targets: list[Identity],
    concurrency: int,
    profiler: cProfile.Profile | None,
) -> dict[str, Totals]:
    """Every step for the whole batch, ``concurrency`` calls at a time, on this event loop."""
    totals: dict[str, Totals] = defaultdict(Totals)
    gate = asyncio.Semaphore(concurrency)

    async def one(method: Any, value: BaseModel) -> None:
        async with gate:
            await method(value)

    for call in calls:
        inputs = [retarget(call, source, target) for target in targets]
        method = getattr(impl, call.name)
        began = time.process_time()
        if profiler is not None:
            profiler.enable()
        await asyncio.gather(*(one(method, value) for value in inputs))
        if profiler is not None:
            profiler.disable()
        totals[call.name].calls += len(inputs)
        totals[call.name].cpu += time.process_time() - began
    return totals


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-activities-") as tmp:
        directory = Path(tmp)
        source, calls, today, due = await capture(directory)
        _, sessions = fresh_ledger(directory, "replay.db")
        targets = await issue_batch(sessions, args.invoices, today, due)
        engine = sessions.kw["bind"]
        connects = Counter[str]()
        commits = Counter[str]()
        event.listen(engine, "connect", lambda *_: connects.update(["connect"]))
        event.listen(engine, "commit", lambda *_: commits.update(["commit"]))
        loop_profiler = cProfile.Profile() if args.cprofile else None
        writer_profiler = cProfile.Profile() if args.cprofile else None
        writer = ProfiledWriter(sessions, writer_profiler)
        with ThreadPoolExecutor(max_workers=4) as provider_calls:
            impl = DunningActivityImpl(
                writer,
                silent_senders(),
                Settings(task_queue="bench-replay"),
                provider_calls,
            )
            began = time.perf_counter()
            totals = await replay(impl, source, calls, targets, args.concurrency, loop_profiler)
            wall = time.perf_counter() - began
        engine.dispose()
    print(
        f"one lifecycle: {len(calls)} activity calls; replayed for {len(targets)} invoices, "
        f"{args.concurrency} at a time, in {wall:.2f} s wall; {commits['commit']} commits, "
        f"{connects['connect']} new connections"
    )
    print(
        f"ledger writer: {writer.units} units, {writer.cpu_seconds:.2f} s CPU"
        f" ({1000 * writer.cpu_seconds / max(writer.units, 1):.3f} ms/unit)"
    )
    print(f"{'activity':<18}{'calls':>8}{'cpu s':>9}{'cpu ms/call':>13}")
    for name, total in sorted(totals.items()):
        print(f"{name:<18}{total.calls:>8}{total.cpu:>9.2f}{1000 * total.cpu / total.calls:>13.3f}")
    for title, profiler in (("event loop", loop_profiler), ("ledger writer", writer_profiler)):
        if profiler is not None:
            print(f"\n--- {title} ---")
            stats = pstats.Stats(profiler, stream=sys.stdout)
            stats.sort_stats(args.sort).print_stats(args.top)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.activity_profile", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--invoices", type=int, default=200, help="invoices replayed (200)")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight at once (16)")
    parser.add_argument(
        "--cprofile", action="store_true", help="print a cProfile of the loop and the writer"
    )
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime)")
    parser.add_argument("--top", type=int, default=40, help="rows of the cProfile (40)")
    parser.add_argument("--log-level", default="INFO", help="product log level (output discarded)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    quiet_logging(args.log_level)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.exit(code)
