"""``--profile``: where a batch's CPU and waiting go, measured rather than guessed.

Two instruments, both only active inside ``Profiler``:

- **CPU per thread kind.** Every few milliseconds each Python thread's CPU clock is read
  (``pthread_getcpuclockid``); the process's CPU minus the Python threads' is the SDK core's
  native (Rust) threads. One Python process runs the whole worker, so its threads share one
  GIL: the sum of the Python threads is capped near one core.
- **Timed calls.** The product's activities (``request_contact`` too, also in the engine
  batch), the customer upsert of ``issue_invoice`` and the DB-API calls SQLAlchemy makes
  (``BEGIN IMMEDIATE``, statements, ``COMMIT``) are wrapped to add up their thread CPU and
  their wall time. Wall far above CPU means waiting: for the SQLite write lock inside
  ``BEGIN IMMEDIATE``, or for the GIL.

The wrappers patch classes of the product and of SQLAlchemy for the duration of the block
and restore them after; nothing is patched without ``--profile``.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import default

from activities.dunning import DunningActivityImpl
from ledger.repositories.customers import CustomerRepository


def thread_kind(thread: threading.Thread) -> str:
    if thread is threading.main_thread():
        return "main thread (event loop)"
    if thread.name.startswith("temporal_workflow_"):
        return "workflow-task threads (sandbox)"
    if thread.name.startswith("bench-activity"):
        return "provider-call threads"
    if thread.name.startswith("ledger-writer"):
        return "ledger writer thread"
    return "other Python threads"


@dataclass
class Timed:
    calls: int = 0
    cpu: float = 0.0
    wall: float = 0.0


class Profiler:
    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.threads: dict[str, float] = defaultdict(float)
        self.timed: dict[str, Timed] = defaultdict(Timed)
        self.process_cpu = 0.0
        self.own_cpu = 0.0
        self._last: dict[int, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._run, name="bench-profiler", daemon=True)
        self._restore: list[Callable[[], None]] = []

    # --- lifecycle ---

    def __enter__(self) -> Profiler:
        self._patch(DunningActivityImpl, "send_message", "activity send_message")
        self._patch(DunningActivityImpl, "record_progress", "activity record_progress")
        self._patch(DunningActivityImpl, "request_contact", "activity request_contact")
        self._patch(CustomerRepository, "upsert", "issue_invoice: CustomerRepository.upsert")
        self._patch(default.DefaultDialect, "do_commit", "sqlite COMMIT")
        self._patch(default.DefaultDialect, "do_execute", "sqlite ", statement_kind=True)
        self._started = time.process_time()
        self._tick()
        self.threads.clear()
        self._sampler.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._sampler.join()
        self._tick()
        self.process_cpu = time.process_time() - self._started - self.own_cpu
        for restore in reversed(self._restore):
            restore()

    # --- instruments ---

    def _run(self) -> None:
        began = time.thread_time()
        while not self._stop.wait(self.interval):
            self._tick()
        self.own_cpu = time.thread_time() - began

    def _tick(self) -> None:
        for thread in threading.enumerate():
            if thread.ident is None or thread is self._sampler:
                continue
            try:
                now = time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
            except (OSError, AttributeError):
                continue
            used = now - self._last.get(thread.ident, now)
            self._last[thread.ident] = now
            self.threads[thread_kind(thread)] += max(used, 0.0)

    def _patch(self, owner: Any, name: str, label: str, *, statement_kind: bool = False) -> None:
        original = owner.__dict__[name]
        timed = self.timed
        lock = self._lock

        if inspect.iscoroutinefunction(original):
            # A coroutine shares its thread with every other task: only its wall time means
            # something (its CPU is in the thread kinds above).
            @functools.wraps(original)
            async def timed_coroutine(*args: Any, **kwargs: Any) -> Any:
                wall = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    entry = timed[label]
                    entry.calls += 1
                    entry.wall += time.perf_counter() - wall

            setattr(owner, name, timed_coroutine)
            self._restore.append(lambda: setattr(owner, name, original))
            return

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                key = label + _statement_kind(args) if statement_kind else label
                with lock:
                    entry = timed[key]
                    entry.calls += 1
                    entry.cpu += time.thread_time() - cpu
                    entry.wall += time.perf_counter() - wall

        setattr(owner, name, wrapper)
        self._restore.append(lambda: setattr(owner, name, original))

    # --- report ---

    def table(self, title: str, wall_seconds: float) -> str:
        python = sum(self.threads.values())
        native = max(self.process_cpu - python, 0.0)
        lines = [
            f"{title}: {self.process_cpu:.1f} s CPU in {wall_seconds:.1f} s"
            f" (profiler's own {self.own_cpu:.1f} s left out)",
            "  CPU by thread kind:",
        ]
        rows = sorted(self.threads.items(), key=lambda kv: -kv[1])
        for name, used in [*rows, ("native threads (SDK core)", native)]:
            lines.append(f"    {name:40} {used:8.2f} s")
        if self.timed:
            lines.append(
                f"  timed calls (summed over threads):     {'calls':>7} {'cpu s':>8}"
                f" {'wall s':>9} {'cpu ms/call':>11} {'wall ms/call':>12}"
            )
            for name, t in sorted(self.timed.items(), key=lambda kv: -kv[1].wall)[:12]:
                lines.append(
                    f"    {name[:36]:36} {t.calls:>7} {t.cpu:>8.2f} {t.wall:>9.2f}"
                    f" {1000 * t.cpu / t.calls:>11.3f} {1000 * t.wall / t.calls:>12.3f}"
                )
        return "\n".join(lines)


def _statement_kind(args: tuple[Any, ...]) -> str:
    """``do_execute(self, cursor, statement, parameters, context)``: its first words."""
    statement = str(args[2]) if len(args) > 2 else ""
    words = statement.split()
    if not words:
        return "?"
    if words[0].upper() in {"INSERT", "DELETE"} and len(words) > 2:
        return f"{words[0]} {words[2]}"
    if words[0].upper() == "UPDATE" and len(words) > 1:
        return f"UPDATE {words[1]}"
    if words[0].upper() == "SELECT":
        table = (
            next((w for w in words[words.index("FROM") + 1 :][:1]), "") if "FROM" in words else ""
        )
        return f"SELECT {table}".rstrip()
    return " ".join(words[:2])


@contextmanager
def profiling(enabled: bool) -> Iterator[Profiler | None]:
    if not enabled:
        yield None
        return
    with Profiler() as profiler:
        yield profiler
