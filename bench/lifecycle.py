"""Benchmark: N full unpaid lifecycles of the standard policy vs a bare workflow of the same shape.

Run from the repository root (the worker sandbox must import ``bench.bare_workflow``)::

    .venv/bin/python -m bench.lifecycle [--invoices N] [--json]

Both halves run on one Temporal time-skipping server (the ``temporal-test-server`` binary in
the virtualenv, never downloaded), in one Python process, with the pydantic data converter:

1. calibration: one real lifecycle; its history gives the number of durable timers and
   activity calls a lifecycle performs (and when its timers fire);
2. baseline: N ``BareLifecycleWorkflow`` with exactly that many timers and no-op activities;
3. ours: N ``InvoiceDunningWorkflow`` with the real activities on a fresh SQLite ledger and
   console senders that write nothing.

Each batch is started with automatic time skipping disabled, then the clock is moved past
the last step (the test service's sleep, as ``env.sleep`` but without its 30 s deadline), and
the wall time is taken from the first start until every lifecycle is done (ours: every invoice
has stage ``handoff`` in the ledger; baseline: every no-op activity has run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import py_compile
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import structlog
import temporalio
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.channels.base import ChannelSender
from activities.channels.console import ConsoleSender
from activities.contracts import ProgressReport, SendRequest, SendResult
from api.invoicing import CustomerDetails, NewInvoice, issue_invoice
from bench.bare_workflow import (
    NOOP_ACTIVITY,
    BareLifecycleInput,
    BareLifecycleWorkflow,
    BareStep,
)
from bench.profiler import Profiler, profiling
from config.logging import configure_logging
from config.settings import Settings
from dunning_policies.language import Channel
from ledger.db import create_ledger_engine, make_session_factory, upgrade_to_head
from ledger.group_commit import GroupCommit
from tests.temporal_support import binary, register_search_attributes
from worker import build_worker
from workflows.invoice import InvoiceDunningWorkflow

SANTIAGO = ZoneInfo("America/Santiago")
RESULTS = Path(__file__).resolve().parent / "results" / "lifecycle.json"
GOAL = 1.5
T = TypeVar("T")
POLL_SECONDS = 0.2
ADVANCE_TIMEOUT = timedelta(minutes=30)


# --- what one lifecycle does, from its history ---


@dataclass(frozen=True)
class Knobs:
    """Worker settings shared by every batch (the product's defaults unless told otherwise)."""

    concurrency: int
    """Activities a worker runs at once (``Settings.activity_concurrency``)."""
    threads: int
    """The product worker's threads for provider calls (``Settings.activity_threads``)."""


@dataclass
class Shape:
    timers: int
    activities: int
    activity_types: dict[str, int]
    workflow_tasks: int
    search_attribute_upserts: int
    history_events: int
    timer_offsets: list[float] = field(default_factory=list)
    """Seconds from the workflow's start to each timer's fire time."""
    steps: list[str] = field(default_factory=list)
    """``activity`` / ``timer`` in the order the workflow scheduled them."""


def shape_of(history: WorkflowHistory) -> Shape:
    counts: Counter[int] = Counter()
    types: Counter[str] = Counter()
    offsets: list[float] = []
    steps: list[str] = []
    started_at: datetime | None = None
    for event in history.events:
        counts[event.event_type] += 1
        at = event.event_time.ToDatetime()
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            started_at = at
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            types[event.activity_task_scheduled_event_attributes.activity_type.name] += 1
            steps.append("activity")
        elif event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            assert started_at is not None
            timeout = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            offsets.append((at + timeout - started_at).total_seconds())
            steps.append("timer")
    return Shape(
        timers=counts[EventType.EVENT_TYPE_TIMER_STARTED],
        activities=counts[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED],
        activity_types=dict(types),
        workflow_tasks=counts[EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED],
        search_attribute_upserts=counts[EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES],
        history_events=len(history.events),
        timer_offsets=offsets,
        steps=steps,
    )


# --- the product side ---


def silent_senders() -> dict[Channel, ChannelSender]:
    return {channel: ConsoleSender(write=lambda _: None) for channel in Channel}


def fresh_ledger(directory: Path, name: str) -> tuple[Path, sessionmaker[Session]]:
    path = directory / f"{uuid.uuid4().hex[:8]}-{name}"
    url = f"sqlite:///{path.as_posix()}"
    upgrade_to_head(url)
    return path, make_session_factory(create_ledger_engine(url))


def customer(i: int) -> CustomerDetails:
    return CustomerDetails(
        id=f"C-{i:06d}",
        name=f"Ferretería Los Andes {i} SpA",
        country="CL",
        timezone="America/Santiago",
        locale="es_CL",
        email=f"pagos{i}@losandes.cl",
        phone="+56912345678",
        whatsapp="+56912345678",
        segment="standard",
    )


def due_date_for(today: date) -> date:
    """A Tuesday at least ten days out, like the lifecycle test: every step lands on a weekday."""
    candidate = today + timedelta(days=10)
    return candidate + timedelta(days=(1 - candidate.weekday()) % 7)


async def today_in_santiago(env: WorkflowEnvironment) -> date:
    return (await env.get_current_time()).astimezone(SANTIAGO).date()


def handoff_count(ledger: Path) -> int:
    """Read-only and outside the product's engine: its BEGIN IMMEDIATE would take the write lock."""
    with sqlite3.connect(f"file:{ledger.as_posix()}?mode=ro", uri=True) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM invoices WHERE stage = 'handoff'"
        ).fetchone()
    connection.close()
    return int(count)


def ours_settings(knobs: Knobs) -> Settings:
    return Settings(
        task_queue=f"bench-ours-{uuid.uuid4().hex[:8]}",
        activity_threads=knobs.threads,
        activity_concurrency=knobs.concurrency,
    )


def ours_worker(
    client: Client,
    sessions: sessionmaker[Session],
    settings: Settings,
    executor: ThreadPoolExecutor,
) -> Worker:
    return build_worker(client, settings, sessions, silent_senders(), executor)


Job = Callable[[], Awaitable[str]]


async def prepare_ours(
    env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
    settings: Settings,
    numbers: Iterable[tuple[int, str]],
    due: date,
    today: date,
    via: str,
) -> list[Job]:
    """One job per invoice, to be run (and timed) by the caller.

    ``issue_invoice``: each job is the whole issuance (ledger writes, then the start).
    ``start_workflow``: issue_invoice runs here, untimed, against a client that only records
    what it would start; each job is then that same start, on the real client.
    """
    if via == "issue_invoice":
        # As the HTTP API and the imports issue: concurrent issuances share commits.
        ledger = GroupCommit(sessions)

        def issuing(i: int, number: str) -> Job:
            async def job() -> str:
                issued = await issue_invoice(
                    env.client,
                    sessions,
                    settings.task_queue,
                    NewInvoice(number, customer(i).id, Decimal("1250000"), "CLP", today, due),
                    customer(i),
                    ledger=ledger,
                )
                return issued.workflow_id

            return job

        return [issuing(i, number) for i, number in numbers]

    captured: list[tuple[Any, dict[str, Any]]] = []

    class _Recorder:
        async def start_workflow(self, _run: Any, arg: Any, **kwargs: Any) -> None:
            captured.append((arg, kwargs))

    for i, number in numbers:
        await issue_invoice(
            _Recorder(),  # type: ignore[arg-type]
            sessions,
            settings.task_queue,
            NewInvoice(number, customer(i).id, Decimal("1250000"), "CLP", today, due),
            customer(i),
        )

    def starting(arg: Any, kwargs: dict[str, Any]) -> Job:
        async def job() -> str:
            handle = await env.client.start_workflow(InvoiceDunningWorkflow.run, arg, **kwargs)
            return handle.id

        return job

    return [starting(arg, kwargs) for arg, kwargs in captured]


async def gather_limited(jobs: list[Job], limit: int = 32) -> list[str]:
    gate = asyncio.Semaphore(limit)

    async def run(job: Job) -> str:
        async with gate:
            return await job()

    return await asyncio.gather(*(run(job) for job in jobs))


def activity_pool(threads: int) -> ThreadPoolExecutor:
    """The product worker's pool for provider calls (named, so --profile can tell its threads
    apart)."""
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench-activity")


# --- the baseline side ---


class CountingNoop:
    """The no-op activity, counting its runs so the bench knows when a batch is done."""

    def __init__(self) -> None:
        self.calls = 0

    @activity.defn(name=NOOP_ACTIVITY)
    async def noop(self, key: str) -> None:
        del key
        self.calls += 1


def bare_worker(client: Client, counter: CountingNoop, knobs: Knobs) -> Worker:
    # The same knobs build_worker gives the product's worker; everything else default for both.
    return Worker(
        client,
        task_queue=f"bench-bare-{uuid.uuid4().hex[:8]}",
        workflows=[BareLifecycleWorkflow],
        activities=[counter.noop],
        max_concurrent_activities=knobs.concurrency,
    )


def bare_input(key: str, shape: Shape, anchor: datetime) -> BareLifecycleInput:
    offsets = iter(shape.timer_offsets)
    return BareLifecycleInput(
        key=key,
        steps=tuple(
            BareStep(kind="timer", fire_at=anchor + timedelta(seconds=next(offsets)))
            if kind == "timer"
            else BareStep(kind="activity")
            for kind in shape.steps
        ),
    )


# --- measuring ---

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def server_cpu_seconds() -> float:
    """CPU time of this process's children (the test server), from /proc; 0 where there is none."""
    total = 0.0
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == me:  # ppid
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
    return total


def machine_busy_seconds() -> float:
    """CPU time every process on the machine has used since boot (/proc/stat), 0 elsewhere."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


@dataclass
class CpuClock:
    python: float = field(default_factory=time.process_time)
    server: float = field(default_factory=server_cpu_seconds)
    machine: float = field(default_factory=machine_busy_seconds)

    def spent(self) -> tuple[float, float, float]:
        """CPU seconds since the start: this process, the test server, everything else."""
        python = time.process_time() - self.python
        server = server_cpu_seconds() - self.server
        others = machine_busy_seconds() - self.machine - python - server
        return python, server, max(others, 0.0)


@dataclass
class Measurement:
    name: str
    invoices: int
    wall_seconds: float
    start_seconds: float
    clock_advance_seconds: float
    drain_seconds: float
    python_cpu_seconds: float
    server_cpu_seconds: float
    other_cpu_seconds: float
    """CPU used meanwhile by every other process on the machine: well above zero, the batch
    shared the cores and its wall time is inflated."""

    @property
    def per_second(self) -> float:
        return self.invoices / self.wall_seconds


async def advance_clock(env: WorkflowEnvironment, duration: timedelta) -> None:
    """``env.sleep(duration)`` without its 30 s RPC deadline.

    The test server answers the sleep only once every workflow has caught up with the clock;
    for 1,000 lifecycles that is minutes, and ``env.sleep`` (no timeout given, so the client's
    default applies) fails after 30 s with "Timeout expired" or "h2 protocol error".
    """
    request = SleepRequest()
    request.duration.FromTimedelta(duration)
    await env.client.test_service.unlock_time_skipping_with_sleep(request, timeout=ADVANCE_TIMEOUT)


def report_profile(profiler: Profiler | None, title: str, wall_seconds: float) -> None:
    if profiler is not None:
        print(profiler.table(f"profile of {title}", wall_seconds), file=sys.stderr)


async def wait_until(done: Callable[[], bool], limit_seconds: float, what: str) -> None:
    deadline = time.perf_counter() + limit_seconds
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what} not done after {limit_seconds:.0f} s")
        await asyncio.sleep(POLL_SECONDS)


async def calibrate(env: WorkflowEnvironment, directory: Path, knobs: Knobs) -> tuple[Shape, Shape]:
    """One real lifecycle (its shape), then one bare one (to check it has the same shape)."""
    ledger, sessions = fresh_ledger(directory, "calibration.db")
    today = await today_in_santiago(env)
    due = due_date_for(today)
    settings = ours_settings(knobs)
    (issue,) = await prepare_ours(
        env, sessions, settings, [(0, "CAL-0")], due, today, "issue_invoice"
    )
    with activity_pool(knobs.threads) as executor:
        async with ours_worker(env.client, sessions, settings, executor):
            with env.auto_time_skipping_disabled():
                workflow_id = await issue()
                await advance_clock(env, timedelta(days=(due - today).days + 25))
                await wait_until(lambda: handoff_count(ledger) == 1, 60, "calibration")
            history = await env.client.get_workflow_handle(workflow_id).fetch_history()
    ours = shape_of(history)

    counter = CountingNoop()
    worker = bare_worker(env.client, counter, knobs)
    async with worker:
        anchor = await env.get_current_time()
        with env.auto_time_skipping_disabled():
            handle = await env.client.start_workflow(
                BareLifecycleWorkflow.run,
                bare_input("bare-cal", ours, anchor),
                id=f"bare-cal-{uuid.uuid4().hex[:8]}",
                task_queue=worker.task_queue,
            )
            await advance_clock(env, timedelta(seconds=ours.timer_offsets[-1]) + timedelta(days=1))
            # Still inside the block: under automatic skipping, result() would unlock the
            # clock, and with only idle workflows left it can jump years ahead.
            await handle.result()
        bare = shape_of(await handle.fetch_history())
    if (bare.timers, bare.activities) != (ours.timers, ours.activities):
        raise AssertionError(f"baseline shape {bare} differs from ours {ours}")
    return ours, bare


async def timed_batch(
    env: WorkflowEnvironment,
    name: str,
    invoices: int,
    jobs: list[Job],
    advance: timedelta,
    done: Callable[[], bool],
) -> Measurement:
    """Start every job, move the clock by ``advance``, wait for ``done``; time each phase."""
    with env.auto_time_skipping_disabled():
        cpu = CpuClock()
        t0 = time.perf_counter()
        await gather_limited(jobs)
        t1 = time.perf_counter()
        await advance_clock(env, advance)
        t2 = time.perf_counter()
        await wait_until(done, 1800, name)
        t3 = time.perf_counter()
        return Measurement(name, invoices, t3 - t0, t1 - t0, t2 - t1, t3 - t2, *cpu.spent())


async def measure_baseline(
    env: WorkflowEnvironment, shape: Shape, invoices: int, knobs: Knobs, profile: bool = False
) -> Measurement:
    counter = CountingNoop()
    expected = invoices * shape.activities
    with profiling(profile) as profiler:
        worker = bare_worker(env.client, counter, knobs)
        async with worker:
            anchor = await env.get_current_time()
            run = uuid.uuid4().hex[:8]

            async def one(i: int) -> str:
                handle = await env.client.start_workflow(
                    BareLifecycleWorkflow.run,
                    bare_input(f"bare-{i}", shape, anchor),
                    id=f"bare-{run}-{i:06d}",
                    task_queue=worker.task_queue,
                )
                return handle.id

            measured = await timed_batch(
                env,
                "baseline (bare)",
                invoices,
                [lambda i=i: one(i) for i in range(invoices)],
                timedelta(seconds=shape.timer_offsets[-1]) + timedelta(days=1),
                lambda: counter.calls >= expected,
            )
    report_profile(profiler, "baseline", measured.wall_seconds)
    return measured


async def measure_ours(
    env: WorkflowEnvironment,
    directory: Path,
    invoices: int,
    knobs: Knobs,
    via: str,
    profile: bool = False,
) -> Measurement:
    ledger, sessions = fresh_ledger(directory, "ledger.db")
    today = await today_in_santiago(env)
    due = due_date_for(today)
    numbers = [(i, f"B-{i:06d}") for i in range(1, invoices + 1)]
    settings = ours_settings(knobs)
    jobs = await prepare_ours(env, sessions, settings, numbers, due, today, via)
    # The profiler patches the activity class: enter it before the worker binds its methods.
    with profiling(profile) as profiler, activity_pool(knobs.threads) as executor:
        async with ours_worker(env.client, sessions, settings, executor):
            measured = await timed_batch(
                env,
                "ours (InvoiceDunning)",
                invoices,
                jobs,
                timedelta(days=(due - today).days + 25),
                lambda: handoff_count(ledger) >= invoices,
            )
    report_profile(profiler, "ours", measured.wall_seconds)
    sessions.kw["bind"].dispose()
    return measured


class NoopDunningActivities:
    """The product's activity names with no work behind them: what is left to measure is the
    invoice workflow and the pure engine it calls, against the bare workflow."""

    def __init__(self) -> None:
        self.handed_off = 0

    @activity.defn(name="send_message")
    async def send_message(self, request: SendRequest) -> SendResult:
        return SendResult(status="sent", provider="noop", provider_message_id=request.step_id)

    @activity.defn(name="record_progress")
    async def record_progress(self, report: ProgressReport) -> None:
        if report.stage == "handoff" and any(e.kind == "handed_off" for e in report.events):
            self.handed_off += 1


async def measure_engine(
    env: WorkflowEnvironment, directory: Path, invoices: int, knobs: Knobs, profile: bool = False
) -> Measurement:
    _, sessions = fresh_ledger(directory, "engine.db")
    today = await today_in_santiago(env)
    due = due_date_for(today)
    numbers = [(i, f"E-{i:06d}") for i in range(1, invoices + 1)]
    settings = ours_settings(knobs)
    # Ledger rows are written before the clock starts: only the starts are timed.
    jobs = await prepare_ours(env, sessions, settings, numbers, due, today, "start_workflow")
    noop = NoopDunningActivities()
    with profiling(profile) as profiler:
        worker = Worker(
            env.client,
            task_queue=settings.task_queue,
            workflows=[InvoiceDunningWorkflow],
            activities=[noop.send_message, noop.record_progress],
            max_concurrent_activities=knobs.concurrency,
        )
        async with worker:
            measured = await timed_batch(
                env,
                "engine (no-op acts)",
                invoices,
                jobs,
                timedelta(days=(due - today).days + 25),
                lambda: noop.handed_off >= invoices,
            )
    report_profile(profiler, "engine", measured.wall_seconds)
    sessions.kw["bind"].dispose()
    return measured


# --- reporting ---


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": model or platform.processor(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "temporalio": temporalio.__version__,
        "server": "temporal-test-server (time-skipping), same host",
    }


@dataclass(frozen=True)
class Round:
    baseline: Measurement
    engine: Measurement
    ours: Measurement

    @property
    def batches(self) -> tuple[Measurement, Measurement, Measurement]:
        return (self.baseline, self.engine, self.ours)


def median_wall(rounds: list[Round], kind: str) -> float:
    return statistics.median(getattr(r, kind).wall_seconds for r in rounds)


def report(
    ours_shape: Shape,
    bare_shape: Shape,
    rounds: list[Round],
    via: str,
    knobs: Knobs,
    host: dict[str, Any],
) -> dict[str, Any]:
    baseline_wall = median_wall(rounds, "baseline")
    ratio = median_wall(rounds, "ours") / baseline_wall
    engine_ratio = median_wall(rounds, "engine") / baseline_wall
    print(
        f"machine: {host['cores']} cores, {host['cpu']}; Python {host['python']}, "
        f"temporalio {host['temporalio']}; {host['server']}"
    )
    print(
        f"one lifecycle (from a real run's history): {ours_shape.timers} timers, "
        f"{ours_shape.activities} activities "
        + "("
        + ", ".join(f"{n} {k}" for k, n in sorted(ours_shape.activity_types.items()))
        + "), "
        f"{ours_shape.workflow_tasks} workflow tasks, "
        f"{ours_shape.search_attribute_upserts} search-attribute upserts, "
        f"{ours_shape.history_events} history events"
    )
    print(
        f"baseline lifecycle (checked from its history): {bare_shape.timers} timers, "
        f"{bare_shape.activities} no-op activities, {bare_shape.workflow_tasks} workflow tasks, "
        f"{bare_shape.history_events} history events"
    )
    how = {
        "issue_invoice": "api.invoicing.issue_invoice (its ledger writes and the start, timed)",
        "start_workflow": "client.start_workflow with issue_invoice's input (ledger rows written"
        " before the clock starts)",
    }[via]
    print(
        f"ours started via: {how}; activities at once: {knobs.concurrency} (all workers);"
        f" provider-call threads: {knobs.threads}"
    )
    print(
        f"{len(rounds)} round(s), each batch on a fresh test server; ratios are of the median"
        " wall times"
    )
    print()
    header = (
        f"{'':26} {'N':>6} {'wall s':>8} {'wf/s':>8} {'start s':>8} {'advance s':>9}"
        f" {'drain s':>8} {'py cpu s':>9} {'srv cpu s':>9} {'others s':>9}"
    )
    print(header)
    print("-" * len(header))
    for number, one in enumerate(rounds, start=1):
        for m in one.batches:
            label = f"{m.name} #{number}" if len(rounds) > 1 else m.name
            print(
                f"{label:26} {m.invoices:>6} {m.wall_seconds:>8.2f} {m.per_second:>8.1f} "
                f"{m.start_seconds:>8.2f} {m.clock_advance_seconds:>9.2f} {m.drain_seconds:>8.2f}"
                f" {m.python_cpu_seconds:>9.2f} {m.server_cpu_seconds:>9.2f}"
                f" {m.other_cpu_seconds:>9.2f}"
            )
            share = m.other_cpu_seconds / (m.wall_seconds * (host["cores"] or 1))
            if share > 0.1:
                print(
                    f"  note: other processes used {m.other_cpu_seconds:.1f} CPU-s"
                    f" ({100 * share:.0f}% of the machine) during this batch: its wall time is"
                    " inflated"
                )
    if len(rounds) > 1:
        per_round = ", ".join(
            f"{r.ours.wall_seconds / r.baseline.wall_seconds:.2f}x" for r in rounds
        )
        print(f"\nours / baseline in each round: {per_round}")
    print()
    verdict = "OK" if ratio <= GOAL else "over goal"
    engine_verdict = "OK" if engine_ratio <= GOAL else "over goal"
    print(
        f"engine overhead = engine / baseline = {engine_ratio:.2f}x  (goal <= {GOAL}x: "
        f"{engine_verdict})  - the invoice workflow and pure engine, activities as no-ops"
    )
    print(
        f"overhead ratio  = ours / baseline   = {ratio:.2f}x  (goal <= {GOAL}x: {verdict})"
        "  - the whole product: ledger writes, rendering, outbox"
    )
    return {
        "invoices": rounds[0].ours.invoices,
        "rounds": len(rounds),
        "overhead_ratio": round(ratio, 3),
        "engine_overhead_ratio": round(engine_ratio, 3),
        "goal": GOAL,
        "started_via": via,
        "activity_concurrency": knobs.concurrency,
        "activity_threads": knobs.threads,
        "machine": host,
        "lifecycle_shape": {
            k: v for k, v in asdict(ours_shape).items() if k not in {"steps", "timer_offsets"}
        },
        "baseline_shape": {
            k: v for k, v in asdict(bare_shape).items() if k not in {"steps", "timer_offsets"}
        },
        "results": [
            {**asdict(m), "round": number, "workflows_per_second": round(m.per_second, 2)}
            for number, one in enumerate(rounds, start=1)
            for m in one.batches
        ],
    }


def quiet_logging(level: str) -> None:
    """The product's JSON logging (so its cost is counted), written to /dev/null."""
    configure_logging(level, "json")
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sink))
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)


async def on_fresh_server(step: Callable[[WorkflowEnvironment], Awaitable[T]]) -> T:
    """Run one part of the bench on a test server of its own.

    The time-skipping server never forgets: every workflow task and activity leaves an entry
    in a list it scans on each state change (``SelfAdvancingTimerImpl.lockEvents``), and every
    history stays in memory. A batch run after another on the same server pays for the
    earlier batch's leftovers, so each batch gets a new server and they compare fairly.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        await register_search_attributes(env.client)
        return await step(env)
    finally:
        await env.shutdown()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    knobs = Knobs(args.activity_concurrency, args.activity_threads)
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle-") as tmp:
        directory = Path(tmp)
        ours_shape, bare_shape = await on_fresh_server(lambda env: calibrate(env, directory, knobs))
        for _ in range(args.rounds):
            baseline = await on_fresh_server(
                lambda env: measure_baseline(env, ours_shape, args.invoices, knobs, args.profile)
            )
            engine = await on_fresh_server(
                lambda env: measure_engine(env, directory, args.invoices, knobs, args.profile)
            )
            ours = await on_fresh_server(
                lambda env: measure_ours(
                    env, directory, args.invoices, knobs, args.start_via, args.profile
                )
            )
            rounds.append(Round(baseline, engine, ours))
    return report(ours_shape, bare_shape, rounds, args.start_via, knobs, machine())


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.lifecycle", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--invoices", type=int, default=1000, help="lifecycles per batch (1000)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="baseline, engine and ours this many times each; the ratio is of the medians (3)",
    )
    parser.add_argument("--json", action="store_true", help=f"also write {RESULTS}")
    parser.add_argument(
        "--start-via",
        choices=["issue_invoice", "start_workflow"],
        default="issue_invoice",
        help="issue_invoice (ledger writes + start, timed) or start_workflow (ledger rows "
        "written untimed first, then only the starts are timed)",
    )
    parser.add_argument(
        "--activity-concurrency",
        type=int,
        default=Settings.model_fields["activity_concurrency"].default,
        help="activities each worker runs at once (the product's default)",
    )
    parser.add_argument(
        "--activity-threads",
        type=int,
        default=Settings.model_fields["activity_threads"].default,
        help="the product worker's threads for provider calls (the product's default)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="measure CPU per thread kind and time the activities and SQLite calls of each batch "
        "(patches them while it runs; slows the batch a little)",
    )
    parser.add_argument("--log-level", default="INFO", help="product log level (output discarded)")
    return parser.parse_args(argv)


def compile_sandboxed_modules() -> None:
    """Write the bytecode of the modules the workflow sandbox imports, as ``pip install`` does.

    The sandbox imports a workflow's module afresh for every workflow run. From a source tree
    with ``PYTHONDONTWRITEBYTECODE`` set (as this workplace and our image set it) there is no
    ``.pyc`` to load, so every run would compile the module again: 2.9 ms for
    ``workflows/invoice.py``, 0.2 ms for the bare workflow, a cost an installed deployment
    never pays. Both sides of the comparison get their bytecode.
    """
    root = Path(__file__).resolve().parent.parent
    for module in (*sorted((root / "workflows").glob("*.py")), root / "bench" / "bare_workflow.py"):
        py_compile.compile(str(module), doraise=True)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    quiet_logging(args.log_level)
    compile_sandboxed_modules()
    began = time.perf_counter()
    result = asyncio.run(run(args))
    result["bench_total_seconds"] = round(time.perf_counter() - began, 2)
    print(
        f"bench total: {result['bench_total_seconds']:.1f} s"
        " (server starts, calibration, every batch)"
    )
    if args.json:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    code = main()
    # sdk-python #300: the interpreter can abort in PyGILState_Release at exit after correct
    # output; the work is done and flushed, so leave without running interpreter teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
