"""A small in-process CPU profiler: which threads and which components burn the CPU.

cProfile sees one thread; a lifecycle's work is spread over the event loop, the workflow-task
threads (the sandbox), the activity threads and the SDK's native (Rust) threads. Every few
milliseconds this reads each Python thread's CPU clock (``pthread_getcpuclockid``) and charges
the CPU it used since the last tick to the component of its current stack: the innermost frame
that belongs to a known library or layer. Native threads are the process's CPU minus the Python
threads'. Time a thread spends inside SQLite's C code counts under "sqlite3 C library".
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from types import FrameType

# (component, substring of the frame's file path): the innermost match wins; order breaks ties.
COMPONENTS: tuple[tuple[str, str], ...] = (
    ("bench harness", "/bench/"),
    ("sqlalchemy", "/sqlalchemy/"),
    ("alembic", "/alembic/"),
    ("pydantic", "/pydantic"),
    ("jinja2/babel templates", "/jinja2/"),
    ("jinja2/babel templates", "/babel/"),
    ("structlog/logging", "/structlog/"),
    ("structlog/logging", "/logging/"),
    ("temporalio data converter", "temporalio/converter.py"),
    ("temporalio data converter", "temporalio/contrib/pydantic"),
    ("protobuf", "/google/protobuf/"),
    ("temporalio workflow sandbox", "temporalio/worker/workflow_sandbox/"),
    ("temporalio workflow instance", "temporalio/worker/_workflow_instance.py"),
    ("temporalio workflow worker", "temporalio/worker/_workflow.py"),
    ("temporalio activity worker", "temporalio/worker/_activity.py"),
    ("temporalio bridge/client", "temporalio/bridge/"),
    ("temporalio bridge/client", "temporalio/client.py"),
    ("temporalio bridge/client", "temporalio/service.py"),
    ("temporalio other", "/temporalio/"),
    ("policy engine (dunning_policies)", "/dunning_policies/"),
    ("workflows/ (product)", "/workflows/"),
    ("activities/ (product)", "/activities/"),
    ("ledger/ (product)", "/ledger/"),
    ("api/ (product)", "/api/"),
    ("asyncio", "/asyncio/"),
)
# The innermost Python frame while the thread runs inside the sqlite3 C library.
SQLITE_LEAVES = frozenset({"do_execute", "do_executemany", "do_commit", "do_rollback"})


def component(frame: FrameType | None) -> str:
    code = frame.f_code if frame is not None else None
    if code is not None and code.co_name in SQLITE_LEAVES and "/sqlalchemy/" in code.co_filename:
        return "sqlite3 C library"
    files = []
    while frame is not None:
        files.append(frame.f_code.co_filename)
        frame = frame.f_back
    for path in files:  # innermost first
        for name, marker in COMPONENTS:
            if marker in path:
                return name
    return "other (stdlib)"


def thread_kind(thread: threading.Thread) -> str:
    if thread is threading.main_thread():
        return "main thread (event loop)"
    if thread.name.startswith("temporal_workflow_"):
        return "workflow-task threads"
    if thread.name.startswith("bench-activity"):
        return "activity threads"
    return "other Python threads"


class CpuSampler:
    def __init__(self, interval: float = 0.003) -> None:
        self.interval = interval
        self.components: Counter[str] = Counter()
        self.threads: Counter[str] = Counter()
        self._last: dict[int, float] = {}
        self._process_start = 0.0
        self.process_cpu = 0.0
        self.own_cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._process_start = time.process_time()
        self._tick()
        self.components.clear()
        self.threads.clear()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.process_cpu = time.process_time() - self._process_start - self.own_cpu

    def _run(self) -> None:
        began = time.thread_time()
        while not self._stop.is_set():
            self._tick()
            time.sleep(self.interval)
        self.own_cpu = time.thread_time() - began

    def _tick(self) -> None:
        frames = sys._current_frames()
        for thread in threading.enumerate():
            ident = thread.ident
            if ident is None or thread is self._thread:
                continue
            try:
                now = time.clock_gettime(time.pthread_getcpuclockid(ident))
            except (OSError, AttributeError):
                continue
            used = now - self._last.get(ident, now)
            self._last[ident] = now
            if used > 0:
                self.components[component(frames.get(ident))] += used
                self.threads[thread_kind(thread)] += used

    def table(self, title: str, top: int = 16) -> str:
        python = sum(self.threads.values())
        native = max(self.process_cpu - python, 0.0)
        total = max(self.process_cpu, 1e-9)
        lines = [
            f"{title}: {self.process_cpu:.1f} s of this process's CPU"
            f" (the sampler's own {self.own_cpu:.1f} s left out)"
        ]
        for name, used in [*self.threads.most_common(), ("native threads (SDK core)", native)]:
            lines.append(f"  {name:36} {used:7.2f} s {100 * used / total:5.1f}%")
        lines.append("  Python threads' CPU by component (innermost known frame):")
        for name, used in self.components.most_common(top):
            lines.append(f"    {name:34} {used:7.2f} s {100 * used / max(python, 1e-9):5.1f}%")
        return "\n".join(lines)
