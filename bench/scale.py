"""Benchmark: start rate and end-to-end latency with 1, 2 and 4 worker processes on one dev server.

Run from the repository root::

    .venv/bin/python -m bench.scale [--invoices 200] [--workers 1,2,4] [--rounds 2] [--sqlite]

One ``temporal server start-dev`` (in memory, headless) and one fresh ledger (a PostgreSQL
schema by default) for the whole run. A round is W real ``worker.py`` processes on a task queue
of their own and N invoices issued through ``api.invoicing.issue_invoice`` (the API's group
commit, 16 at a time) on a compressed-time policy (``scale_policy``), each with a customer of
its own (two workflows per lifecycle). The lifecycle is four bursts, every invoice's step due
at the same second as 10:00 is for a day's invoices: the issuance; an e-mail reminder at the
due moment; a collector task; its SLA lapsing, then the agency. Each burst is due once the one
before has drained (``Plan``; an event late for the next burst is counted and printed). The
rounds go 1,2,4 then 4,2,1 (``run_order``).

Measured from the ledger's own timestamps, per invoice:

- **start rate**: invoices issued per second (first call to the last start accepted), and the
  pickup: from a start accepted to its ``issued`` event in the bitácora;
- **reminder latency**: from the due moment to the message in the outbox as sent, and to its
  ``message_sent`` event in the bitácora (the contact workflow's result back in the invoice's);
- **handoff latency**: from each task's SLA lapse to its ``handed_off`` event;
- **lifecycles/s**: N / the time the four bursts took (each from its trigger to its last event).

The baseline is the first worker count (W = 1), measured in the same run; every figure is also
printed as a ratio to it. The CPU of each burst comes from ``/proc``: the dev server, the
workers, this process, this run's PostgreSQL backends (by ``application_name``) and the rest of
the machine (other tenants), in cores, and per lifecycle in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

import dunning_policies.registry as registry
from api.invoicing import NewInvoice, issue_invoice
from api.temporal import connect
from config.logging import configure_logging
from config.payload_keys import new_key_entry
from config.settings import SEARCH_ATTRIBUTES, Settings
from dunning_policies.language import Channel, Handoff, Negotiate, Policy, Remind, Tone
from ledger.db import create_ledger_engine, make_session_factory, normalize_url, unit_of_work
from ledger.group_commit import GroupCommit
from ledger.models import Interaction, OutboxMessage, Task
from tests.integration.processes import REPO, environment, free_port, spawn, stop
from tests.ledger_support import postgres_schema_url, sqlite_url
from tests.soak.customers import ZONE, add_customers
from tests.soak.soak_policy import ALWAYS_OPEN, SECOND
from tests.temporal_support import binary

POLICY_NAME = "bench_scale"
CONCURRENCY = 16
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
COMPONENTS = ("server", "workers", "postgres", "bench", "others")
EVENTS = ("issued", "message_sent", "task_opened", "handed_off")
PHASES = {"issue": "issued", "reminder": "reminded", "task": "tasked", "handoff": "handed_off"}
"""The bursts, by the snapshots that open and close them."""


def scale_policy(due: datetime, negotiate_after: float, sla: float) -> Policy:
    """A reminder at ``due``; a task ``negotiate_after`` s later, its ``sla`` s; the agency."""
    return Policy(
        name=POLICY_NAME,
        version=1,
        description="bench.scale only: a reminder, a task whose SLA lapses, the agency.",
        steps=(
            Remind(
                id="scale_reminder",
                offset_days=0.0,
                channels=(Channel.EMAIL,),
                template="due_today",
                tone=Tone.FRIENDLY,
            ),
            Negotiate(
                id="scale_collector_call",
                offset_days=negotiate_after * SECOND,
                queue="standard",
                sla_days=sla * SECOND,
                max_attempts=1,
            ),
            Handoff(id="scale_agency", agency="Agencia de Prueba SpA"),
        ),
        send_at=due.astimezone(ZoneInfo(ZONE)).time(),
        window=ALWAYS_OPEN,
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100), interpolated between the closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "-"


def quantile_ratio(values: Sequence[float], baseline: Sequence[float], q: float) -> str:
    return ratio(percentile(values, q), percentile(baseline, q))


# --- CPU, from /proc ------------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def machine_busy() -> float:
    """CPU seconds all cores of the machine have spent not idle since boot."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICK


@dataclass(frozen=True)
class Snapshot:
    wall: float
    busy: float
    groups: dict[str, dict[int, float]]
    """Component -> pid -> CPU seconds; ``bench`` is this process (all its threads)."""


@dataclass
class Machine:
    server: int
    sessions: sessionmaker[Session]
    postgres: bool
    workers: tuple[int, ...] = ()

    def snapshot(self) -> Snapshot:
        backends: list[int] = []
        if self.postgres:
            with unit_of_work(self.sessions) as session:
                backends = list(
                    session.scalars(
                        text(
                            "SELECT pid FROM pg_stat_activity "
                            "WHERE application_name LIKE 'bench-scale%'"
                        )
                    )
                )
        usage = resource.getrusage(resource.RUSAGE_SELF)
        pids = {"server": [self.server], "workers": list(self.workers), "postgres": backends}
        groups = {name: {pid: process_cpu(pid) for pid in group} for name, group in pids.items()}
        groups["bench"] = {0: usage.ru_utime + usage.ru_stime}
        return Snapshot(time.monotonic(), machine_busy(), groups)


def cpu_used(start: Snapshot, end: Snapshot) -> dict[str, float]:
    """CPU seconds of each component between two snapshots. A PostgreSQL backend that ended in
    between is lost; ``others`` is the rest of the machine's busy time (other tenants)."""
    used = {
        name: sum(cpu - start.groups[name].get(pid, 0.0) for pid, cpu in group.items())
        for name, group in end.groups.items()
    }
    used["others"] = (end.busy - start.busy) - sum(used.values())
    return {name: used[name] for name in COMPONENTS}


def cores(start: Snapshot, end: Snapshot) -> dict[str, float]:
    """Cores each component kept busy between two snapshots (CPU s / wall s)."""
    wall = max(end.wall - start.wall, 1e-9)
    return {name: seconds / wall for name, seconds in cpu_used(start, end).items()}


# --- one round: W workers, N lifecycles ------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The waits of a round's policy: each burst is due after the one before has drained."""

    lead: float
    """First start -> the due moment (the reminder)."""
    negotiate_after: float
    """The due moment -> the task opens."""
    sla: float

    @staticmethod
    def first(invoices: int) -> Plan:
        # About 1.5 times what one worker took on a 2-core machine with other work on it.
        per_burst = 2 + invoices * 0.08
        return Plan(lead=per_burst, negotiate_after=per_burst, sla=2 + invoices * 0.04)

    def after(self, done: RoundResult) -> Plan:
        """The next round's waits: 1.4 times the drains just measured, plus 2 s."""
        return Plan(
            lead=2 + 1.4 * done.phases["issue"],
            negotiate_after=2 + 1.4 * done.phases["reminder"],
            sla=2 + 1.4 * done.phases["task"],
        )


@dataclass(frozen=True)
class RoundResult:
    workers: int
    invoices: int
    issue_seconds: float
    pickup: list[float]
    sent: list[float]
    recorded: list[float]
    handoff: list[float]
    phases: dict[str, float]
    """Seconds from each burst's trigger to its last event in the bitácora."""
    cpu: dict[str, dict[str, float]]
    """Phase -> component -> cores."""
    cpu_ms: dict[str, float]
    """Component -> CPU milliseconds per lifecycle, in the four bursts."""
    overlaps: int
    """Events that came after the next burst was due (0, or the plan's waits were short)."""

    @property
    def start_rate(self) -> float:
        return self.invoices / self.issue_seconds

    @property
    def lifecycles_per_second(self) -> float:
        return self.invoices / sum(self.phases.values())


@dataclass
class Stack:
    client: Client
    address: str
    ledger_url: str
    """With an ``APP`` placeholder for PostgreSQL's ``application_name``."""
    sessions: sessionmaker[Session]
    payload_keys: str
    logs: Path
    machine: Machine


@contextmanager
def policy_known(policy: Policy) -> Iterator[None]:
    """This process issues on ``policy`` by name; the workers get it in each workflow's input."""
    original = registry.all_policies
    known = {**original(), policy.name: policy}
    setattr(registry, "all_policies", lambda: known)  # noqa: B010 (restored below)
    try:
        yield
    finally:
        setattr(registry, "all_policies", original)  # noqa: B010


def counted(sessions: sessionmaker[Session], prefix: str, kind: str) -> int:
    with unit_of_work(sessions) as session:
        found = session.scalar(
            select(func.count()).where(
                Interaction.kind == kind, Interaction.invoice_number.startswith(prefix)
            )
        )
    return int(found or 0)


async def all_recorded(stack: Stack, prefix: str, kind: str, want: int) -> None:
    deadline = time.monotonic() + 120 + want * 0.5
    while (found := await asyncio.to_thread(counted, stack.sessions, prefix, kind)) < want:
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out: {found}/{want} {kind} for {prefix}")
        await asyncio.sleep(0.2)


async def workers_polling(client: Client, queue: str, count: int) -> None:
    deadline = time.monotonic() + 120
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    while len((await client.workflow_service.describe_task_queue(request)).pollers) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {count} workers polling {queue}")
        await asyncio.sleep(0.2)


async def issue_all(
    stack: Stack, queue: str, numbers: list[str], due: datetime
) -> dict[str, float]:
    """Issue every invoice, CONCURRENCY at a time; when each start was accepted (epoch s)."""
    add_customers(stack.sessions, numbers, POLICY_NAME)
    gate = asyncio.Semaphore(CONCURRENCY)
    ledger = GroupCommit(stack.sessions)
    due_on = due.astimezone(ZoneInfo(ZONE)).date()
    accepted: dict[str, float] = {}

    async def issue(number: str) -> None:
        new = NewInvoice(
            number, f"C-{number}", Decimal("450000"), "CLP", due_on - timedelta(30), due_on
        )
        async with gate:
            await issue_invoice(
                stack.client,
                stack.sessions,
                queue,
                new,
                respect_contact_window=False,
                ledger=ledger,
            )
        accepted[number] = time.time()

    await asyncio.gather(*(issue(number) for number in numbers))
    return accepted


def recorded_at(sessions: sessionmaker[Session], prefix: str) -> dict[str, dict[str, float]]:
    """Per event: invoice number -> when it reached the ledger (epoch s); the outbox's sends
    and the tasks' SLA lapses too."""
    found: dict[str, dict[str, float]] = {kind: {} for kind in (*EVENTS, "sent", "sla")}
    with unit_of_work(sessions) as session:
        for kind, number, at in session.execute(
            select(Interaction.kind, Interaction.invoice_number, Interaction.recorded_at).where(
                Interaction.invoice_number.startswith(prefix), Interaction.kind.in_(EVENTS)
            )
        ):
            found[kind][number] = at.timestamp()
        for number, sent_at in session.execute(
            select(OutboxMessage.invoice_number, OutboxMessage.sent_at).where(
                OutboxMessage.invoice_number.startswith(prefix), OutboxMessage.status == "sent"
            )
        ):
            if sent_at is not None:
                found["sent"][number] = sent_at.timestamp()
        for number, lapse in session.execute(
            select(Task.invoice_number, Task.sla_due_at).where(
                Task.invoice_number.startswith(prefix)
            )
        ):
            found["sla"][number] = lapse.timestamp()
    return found


async def sleep_until(epoch: float) -> None:
    await asyncio.sleep(max(0.0, epoch - time.time()))


async def measure_round(
    stack: Stack, workers: int, invoices: int, tag: str, plan: Plan
) -> RoundResult:
    queue = f"scale-{tag}-{uuid.uuid4().hex[:6]}"
    prefix = f"{tag}-"
    numbers = [f"{prefix}{n:05d}" for n in range(invoices)]
    env = environment(
        temporal_address=stack.address,
        database_url=stack.ledger_url.replace("APP", "bench-scale-worker"),
        task_queue=queue,
        relax_contact_windows="true",
        payload_keys=stack.payload_keys,
    )
    logs = [stack.logs / f"{queue}-{n}.log" for n in range(workers)]
    processes = [spawn([str(REPO / "worker.py")], env, REPO, log) for log in logs]
    machine, snapshots = stack.machine, dict[str, Snapshot]()
    machine.workers = tuple(process.pid for process in processes)
    try:
        await workers_polling(stack.client, queue, workers)
        due = (datetime.now(UTC) + timedelta(seconds=plan.lead)).replace(microsecond=0)
        opens = due.timestamp() + plan.negotiate_after
        with policy_known(scale_policy(due, plan.negotiate_after, plan.sla)):
            snapshots["issue"] = machine.snapshot()
            first = time.time()
            accepted = await issue_all(stack, queue, numbers, due)
        await all_recorded(stack, prefix, "issued", invoices)
        snapshots["issued"] = machine.snapshot()
        await sleep_until(due.timestamp())
        snapshots["reminder"] = machine.snapshot()
        await all_recorded(stack, prefix, "message_sent", invoices)
        snapshots["reminded"] = machine.snapshot()
        await sleep_until(opens)
        snapshots["task"] = machine.snapshot()
        await all_recorded(stack, prefix, "task_opened", invoices)
        snapshots["tasked"] = machine.snapshot()
        await sleep_until(opens + plan.sla)  # the SLA lapses (tasks opened on time)
        snapshots["handoff"] = machine.snapshot()
        await all_recorded(stack, prefix, "handed_off", invoices)
        snapshots["handed_off"] = machine.snapshot()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            stop(process)
    at = recorded_at(stack.sessions, prefix)
    due_at, lapse = due.timestamp(), opens + plan.sla
    used = [cpu_used(snapshots[phase], snapshots[end]) for phase, end in PHASES.items()]
    return RoundResult(
        workers=workers,
        invoices=invoices,
        issue_seconds=max(accepted.values()) - first,
        pickup=[at["issued"][n] - accepted[n] for n in numbers],
        sent=[at["sent"][n] - due_at for n in numbers],
        recorded=[at["message_sent"][n] - due_at for n in numbers],
        handoff=[at["handed_off"][n] - at["sla"][n] for n in numbers],
        phases={
            "issue": max(at["issued"].values()) - first,
            "reminder": max(at["message_sent"].values()) - due_at,
            "task": max(at["task_opened"].values()) - opens,
            "handoff": max(at["handed_off"].values()) - min(at["sla"].values()),
        },
        cpu={phase: cores(snapshots[phase], snapshots[end]) for phase, end in PHASES.items()},
        cpu_ms={name: sum(u[name] for u in used) * 1000 / invoices for name in COMPONENTS},
        overlaps=sum(at["issued"][n] > due_at for n in numbers)
        + sum(at["message_sent"][n] > opens for n in numbers)
        + sum(at["task_opened"][n] > lapse for n in numbers),
    )


# --- the run --------------------------------------------------------------------------------


@contextmanager
def dev_server(logs: Path) -> Iterator[tuple[str, int]]:
    """``temporal server start-dev``, in memory and headless; its address and pid."""
    port = free_port()
    command = [binary("temporal"), "server", "start-dev", "--headless", "--ip", "127.0.0.1"]
    command += ["--port", str(port), "--http-port", str(free_port())]
    command += ["--metrics-port", str(free_port()), "--log-level", "error"]
    command += [f"--search-attribute={name}={kind}" for name, kind in SEARCH_ATTRIBUTES.items()]
    with (logs / "temporal.log").open("ab") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the dev server did not start; see {logs / 'temporal.log'}")
            time.sleep(0.2)
        yield f"127.0.0.1:{port}", server.pid
    finally:
        stop(server)


@contextmanager
def fresh_ledger(postgres: bool, directory: Path) -> Iterator[str]:
    if not postgres:
        yield sqlite_url(directory)
        return
    with postgres_schema_url() as url:
        named = normalize_url(url).update_query_dict({"application_name": "APP"})
        yield named.render_as_string(hide_password=False)


async def connect_when_ready(address: str, keys: str) -> Client:
    settings = Settings(temporal_address=address, payload_keys=SecretStr(keys))
    deadline = time.monotonic() + 60
    while True:
        try:
            return await connect(settings)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def run_order(worker_counts: Sequence[int], rounds: int) -> list[int]:
    """Each pass over the worker counts reverses the one before (1,2,4,4,2,1): a drift of the
    host or of the filling server weighs on every count alike."""
    order: list[int] = []
    for number in range(rounds):
        order += worker_counts if number % 2 == 0 else list(reversed(worker_counts))
    return order


async def measure(
    invoices: int, worker_counts: Sequence[int], *, rounds: int = 1, postgres: bool = True
) -> list[RoundResult]:
    """One dev server and one ledger; ``rounds`` rounds per worker count (``run_order``)."""
    keys = new_key_entry("bench-scale")
    with (
        tempfile.TemporaryDirectory(prefix="bench-scale-") as directory,
        dev_server(Path(directory)) as (address, server),
        fresh_ledger(postgres, Path(directory)) as url,
    ):
        engine = create_ledger_engine(url.replace("APP", "bench-scale"))
        sessions = make_session_factory(engine)
        machine = Machine(server, sessions, postgres)
        try:
            client = await connect_when_ready(address, keys)
            stack = Stack(client, address, url, sessions, keys, Path(directory), machine)
            # This process's first issuances (imports, holiday calendars, connections) are
            # not a worker count's: a few go to a queue no worker polls, before the first round.
            tomorrow = datetime.now(UTC) + timedelta(days=1)
            with policy_known(scale_policy(tomorrow, 1, 1)):
                warm_up = [f"WARM-{n}" for n in range(20)]
                await issue_all(stack, "scale-warm-up", warm_up, tomorrow)
            results: list[RoundResult] = []
            plan = Plan.first(invoices)
            for number, workers in enumerate(run_order(worker_counts, rounds)):
                tag = f"R{number}W{workers}"
                results.append(await measure_round(stack, workers, invoices, tag, plan))
                plan = plan.after(results[-1])
            return results
        finally:
            engine.dispose()


def pooled(
    rounds: Sequence[RoundResult], pick: Callable[[RoundResult], list[float]]
) -> list[float]:
    return [value for r in rounds for value in pick(r)]


def spread(values: Sequence[float]) -> str:
    return f"{percentile(values, 50):.2f}/{percentile(values, 95):.2f}"


LATENCIES: dict[str, Callable[[RoundResult], list[float]]] = {
    "pickup": lambda r: r.pickup,
    "sent": lambda r: r.sent,
    "in ledger": lambda r: r.recorded,
    "handoff": lambda r: r.handoff,
}


def report(results: Sequence[RoundResult], machine_cores: int) -> None:
    by_workers: dict[int, list[RoundResult]] = {}
    for r in results:
        by_workers.setdefault(r.workers, []).append(r)
    base_workers, base = results[0].workers, by_workers[results[0].workers]
    order = ",".join(str(r.workers) for r in results)
    print(
        f"N = {results[0].invoices} lifecycles per round, rounds in the order {order}; "
        f"baseline W = {base_workers}, this run. Latencies in s, p50/p95 of every lifecycle of "
        "the rounds; rates: the median round"
    )

    def rates(rounds: Sequence[RoundResult]) -> tuple[float, float]:
        return (
            statistics.median(r.start_rate for r in rounds),
            statistics.median(r.lifecycles_per_second for r in rounds),
        )

    names = "".join(f"{name:>13}" for name in LATENCIES)
    print(f"{'W':>2} {'starts/s':>9}{names} {'lifecycles/s':>13}")
    for workers, rounds in by_workers.items():
        starts, lifecycles = rates(rounds)
        latencies = "".join(f"{spread(pooled(rounds, pick)):>13}" for pick in LATENCIES.values())
        print(f"{workers:>2} {starts:>9.1f}{latencies} {lifecycles:>13.2f}")
    print(f"ratios to W = {base_workers} (rates: higher is better; latencies: lower is better)")
    base_starts, base_lifecycles = rates(base)
    for workers, rounds in by_workers.items():
        starts, lifecycles = rates(rounds)
        latencies = "".join(
            f"{quantile_ratio(pooled(rounds, pick), pooled(base, pick), 50)}/"
            f"{quantile_ratio(pooled(rounds, pick), pooled(base, pick), 95)}".rjust(13)
            for pick in LATENCIES.values()
        )
        print(
            f"{workers:>2} {ratio(starts, base_starts):>9}{latencies}"
            f" {ratio(lifecycles, base_lifecycles):>13}"
        )
    print(
        "each round: starts/s, lifecycles/s, burst seconds (trigger -> last event), others' cores"
    )
    for r in results:
        phases = " ".join(f"{name} {seconds:.1f}" for name, seconds in r.phases.items())
        others = max(used["others"] for used in r.cpu.values())
        flag = f"  ({r.overlaps} events after the next burst was due)" if r.overlaps else ""
        print(
            f"{r.workers:>2} {r.start_rate:>6.1f} {r.lifecycles_per_second:>6.2f}  {phases}"
            f"  others up to {others:.2f}{flag}"
        )
    print(f"CPU in cores of {machine_cores} (CPU s / wall s of the phase), mean of the rounds")
    print(f"{'W':>2} {'phase':>8}" + "".join(f"{name:>9}" for name in COMPONENTS) + "    total")
    for workers, rounds in by_workers.items():
        for phase in rounds[0].cpu:
            used = {c: statistics.mean(r.cpu[phase][c] for r in rounds) for c in COMPONENTS}
            shares = "".join(f"{used[name]:>9.2f}" for name in COMPONENTS)
            print(f"{workers:>2} {phase:>8}{shares} {sum(used.values()):>8.2f}")
    print("CPU ms per lifecycle (the four bursts), mean of the rounds")
    mine = COMPONENTS[:-1]
    print(f"{'W':>2}" + "".join(f"{name:>9}" for name in mine) + "    total")
    for workers, rounds in by_workers.items():
        ms = {c: statistics.mean(r.cpu_ms[c] for r in rounds) for c in mine}
        print(
            f"{workers:>2}" + "".join(f"{ms[c]:>9.1f}" for c in mine) + f" {sum(ms.values()):>8.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--workers", default="1,2,4", help="worker counts; the first is the base")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per worker count")
    backend = parser.add_mutually_exclusive_group()
    backend.add_argument("--postgres", dest="postgres", action="store_true", default=True)
    backend.add_argument("--sqlite", dest="postgres", action="store_false")
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    counts = [int(count) for count in args.workers.split(",")]
    started = time.monotonic()
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    results = asyncio.run(
        measure(args.invoices, counts, rounds=args.rounds, postgres=args.postgres)
    )
    report(results, os.cpu_count() or 1)
    print(
        f"ledger: {'PostgreSQL' if args.postgres else 'SQLite'}; wall time "
        f"{time.monotonic() - started:.0f} s; load average at end: "
        "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    )


if __name__ == "__main__":
    main()
