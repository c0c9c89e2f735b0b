"""Group commit on a writer thread: units of work that arrive together share one transaction.

Callers hand a unit of work (a function of the session) to ``GroupCommit.run`` and await it.
One thread takes every unit waiting in the queue (lingering 2 ms for more after the first),
runs them in one transaction and commits once: one wait for the disk instead of one per unit,
and no convoy of threads queueing for the database's write lock (SQLite has one writer at a
time; on PostgreSQL too the commit, not the statements, is what a small unit of work waits
for). A caller hears back only after the commit that holds its writes, so "done" still means
"on disk".

One unit's error must not undo the others. Units rarely fail, so a batch first runs without
savepoints (each costs two statements and SQLAlchemy bookkeeping per unit); when a unit
raises, the whole transaction is rolled back and the batch runs again with a savepoint per
unit, so the failing one rolls back alone and its error reaches only its caller. Units must
therefore be safe to run twice before a commit: they only touch the session they are given.

The asyncio event loop is never blocked by the database: statements and commit run on the
writer thread, and the waiting coroutines are resumed with one wake-up of their loop per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import unit_of_work

T = TypeVar("T")
Work = Callable[[Session], Any]

log = structlog.get_logger()

# Long enough to amortise the commit over a burst, short enough that one batch never holds
# the write lock for long against the other processes (the API, another worker).
MAX_BATCH = 128
IDLE_SECONDS = 5.0
# After the first unit arrives, wait this long for others before writing: a batch of several
# costs one commit, one wake-up of the waiting loop and far fewer thread switches than several
# batches of one, and 2 ms is nothing next to a send's own latency.
LINGER_SECONDS = 0.002


@dataclass(slots=True)
class _Unit:
    work: Work
    future: asyncio.Future[Any] | Future[Any]
    loop: asyncio.AbstractEventLoop | None
    """The loop of an awaiting caller (its future is resolved there); None for ``submit``."""

    def wanted(self) -> bool:
        if self.loop is None:
            assert isinstance(self.future, Future)
            return self.future.set_running_or_notify_cancel()
        # Read from another thread: at worst a unit cancelled just now runs anyway, and its
        # result is dropped. Units are idempotent writes, so that is harmless.
        return not self.future.cancelled()


class _UnitFailed(Exception):
    """A unit raised inside a batch without savepoints: roll back and run them one by one."""


class GroupCommit:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        max_batch: int = MAX_BATCH,
        idle_seconds: float = IDLE_SECONDS,
        linger_seconds: float = LINGER_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._linger_seconds = linger_seconds
        self._max_batch = max_batch
        self._idle_seconds = idle_seconds
        self._queue: queue.SimpleQueue[_Unit] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        # Held to queue a unit and by a writer deciding to stop, so that no unit is ever
        # queued after the thread's last look at the queue.
        self._lock = threading.Lock()
        self.batches_rerun = 0
        """Batches run again with savepoints because a unit raised (observability, tests)."""

    @property
    def running(self) -> bool:
        """Whether the writer thread is up (it stops after ``idle_seconds`` without work)."""
        return self._thread is not None

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in the next batch; return its result once the batch is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._enqueue(_Unit(work, future, loop))
        return await future

    def submit(self, work: Callable[[Session], T]) -> Future[T]:
        """Run ``work`` in the next batch, from any thread; the future is resolved after the
        commit."""
        future: Future[T] = Future()
        self._enqueue(_Unit(work, future, None))
        return future

    def _enqueue(self, unit: _Unit) -> None:
        with self._lock:
            self._queue.put(unit)
            if self._thread is None:
                # A daemon that stops after a while without work: an idle worker or API holds
                # no thread, and a process may exit without closing anything.
                self._thread = threading.Thread(
                    target=self._write_batches, name="ledger-writer", daemon=True
                )
                self._thread.start()

    def _write_batches(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            deadline = time.monotonic() + self._linger_seconds
            while len(batch) < self._max_batch:
                try:
                    left = deadline - time.monotonic()
                    batch.append(
                        self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                    )
                except queue.Empty:
                    break
            wanted = [unit for unit in batch if unit.wanted()]
            if wanted:
                _resolve(wanted, self._commit(wanted))

    def _commit(self, batch: list[_Unit]) -> list[tuple[Any, BaseException | None]]:
        """Each unit's result or error, once the batch's transaction is over."""
        try:
            try:
                with unit_of_work(self._sessions) as session:
                    results = []
                    for unit in batch:
                        try:
                            results.append(unit.work(session))
                        except Exception as error:
                            raise _UnitFailed from error
                return [(result, None) for result in results]
            except _UnitFailed:
                self.batches_rerun += 1
                return self._commit_one_by_one(batch)
        except Exception as error:
            log.warning("ledger batch failed to commit", units=len(batch), error=str(error))
            return [(None, error)] * len(batch)

    def _commit_one_by_one(self, batch: list[_Unit]) -> list[tuple[Any, BaseException | None]]:
        outcomes: list[tuple[Any, BaseException | None]] = []
        with unit_of_work(self._sessions) as session:
            for unit in batch:
                try:
                    with session.begin_nested():
                        outcomes.append((unit.work(session), None))
                except Exception as error:
                    outcomes.append((None, error))
        return outcomes


def _resolve(batch: list[_Unit], outcomes: list[tuple[Any, BaseException | None]]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Unit, Any, BaseException | None]]]
    by_loop = defaultdict(list)
    for unit, (result, error) in zip(batch, outcomes, strict=True):
        if unit.loop is None:
            assert isinstance(unit.future, Future)
            if error is None:
                unit.future.set_result(result)
            else:
                unit.future.set_exception(error)
        else:
            by_loop[unit.loop].append((unit, result, error))
    for loop, resolved in by_loop.items():
        # One wake-up of the loop for the whole batch, not one per unit. A closed loop raises
        # RuntimeError: nobody is waiting there any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_resolve_on_loop, resolved)


def _resolve_on_loop(resolved: list[tuple[_Unit, Any, BaseException | None]]) -> None:
    for unit, result, error in resolved:
        if unit.future.done():
            continue
        if error is None:
            unit.future.set_result(result)
        else:
            unit.future.set_exception(error)
