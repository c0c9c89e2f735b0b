"""Group commit: the ledger writes of requests that arrive together share one transaction.

Each request's work runs in its own savepoint, so one request's error rolls back only its own
writes and reaches only its own caller; the batch then commits once — one wait for the disk
instead of one per request, which is what bounds issuances per second on SQLite and PostgreSQL
alike. A request's answer is given only after the commit that holds its writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from ledger.db import unit_of_work

T = TypeVar("T")
Work = Callable[[Session], Any]


class GroupCommit:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._pending: list[tuple[Work, asyncio.Future[Any]]] = []

    async def run(self, work: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((work, future))
        if len(self._pending) == 1:
            # Flush once the loop has let every request that is ready add its work.
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            with unit_of_work(self._sessions) as session:
                for work, future in batch:
                    try:
                        with session.begin_nested():
                            outcomes.append((future, work(session), None))
                    except Exception as error:
                        outcomes.append((future, None, error))
        except Exception as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for future, result, failure in outcomes:
            if future.done():
                continue
            if failure is not None:
                future.set_exception(failure)
            else:
                future.set_result(result)
