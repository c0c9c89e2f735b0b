"""Group commit: units of work that arrive together share a transaction, never each other's
errors, and a caller hears back only after the commit that holds its writes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import create_ledger_engine, make_session_factory, unit_of_work, upgrade_to_head
from ledger.group_commit import GroupCommit
from ledger.models import ApiKey


@pytest.fixture
def engine(empty_url: str) -> Iterator[Engine]:
    upgrade_to_head(empty_url)
    engine = create_ledger_engine(empty_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def add_key(key_id: str, fail: bool = False) -> Callable[[Session], str]:
    def work(session: Session) -> str:
        session.add(ApiKey(id=key_id, name=key_id, role="erp", secret_sha256="x"))
        session.flush()
        if fail:
            raise ValueError(f"{key_id} refused")
        return key_id

    return work


def stored_keys(sessions: sessionmaker[Session]) -> list[str]:
    with unit_of_work(sessions) as session:
        return sorted(session.scalars(select(ApiKey.id)))


def hold_writer(writer: GroupCommit) -> tuple[threading.Event, Future[Any]]:
    """Keep the writer busy until the event is set, so the next units queue up together."""
    busy, release = threading.Event(), threading.Event()

    def wait(_session: Session) -> None:
        busy.set()
        release.wait(10)

    held = writer.submit(wait)
    assert busy.wait(10)
    return release, held


def count_commits(engine: Engine) -> list[object]:
    commits: list[object] = []
    event.listen(engine, "commit", commits.append)
    return commits


def test_units_queued_together_share_one_commit_and_only_their_own_errors(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    writer = GroupCommit(sessions)
    commits = count_commits(engine)
    release, held = hold_writer(writer)
    futures = [writer.submit(add_key("k1")), writer.submit(add_key("k2", fail=True))]
    futures.append(writer.submit(add_key("k3")))
    release.set()
    held.result(10)

    assert futures[0].result(10) == "k1" and futures[2].result(10) == "k3"
    with pytest.raises(ValueError, match="k2 refused"):
        futures[1].result(10)
    assert len(commits) == 1, "the three queued units shared one commit (the held one wrote none)"
    assert writer.batches_rerun == 1, "k2's error sent its batch down the savepoint path"
    assert stored_keys(sessions) == ["k1", "k3"]


def test_a_batch_without_errors_takes_no_savepoints(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    writer = GroupCommit(sessions)
    release, held = hold_writer(writer)
    futures = [writer.submit(add_key(f"s{i}")) for i in range(5)]
    release.set()
    assert [f.result(10) for f in futures] == [f"s{i}" for i in range(5)]
    held.result(10)
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]
    assert writer.batches_rerun == 0


def test_a_failed_commit_fails_every_unit_of_the_batch(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    writer = GroupCommit(sessions)
    writer.submit(add_key("before")).result(10)

    def fail_commit(_connection: Any) -> None:
        raise RuntimeError("disk full")

    event.listen(engine, "commit", fail_commit)
    release, held = hold_writer(writer)
    batch = [writer.submit(add_key("fresh")), writer.submit(add_key("fresher"))]
    release.set()
    held.result(10)
    for future in batch:
        with pytest.raises(RuntimeError, match="disk full"):
            future.result(10)
    event.remove(engine, "commit", fail_commit)
    assert stored_keys(sessions) == ["before"], "nothing of the failed batches was kept"


async def test_awaiting_callers_resume_after_the_commit_without_blocking_the_loop(
    sessions: sessionmaker[Session],
) -> None:
    writer = GroupCommit(sessions)
    results = await asyncio.gather(*(writer.run(add_key(f"a{i}")) for i in range(20)))
    assert results == [f"a{i}" for i in range(20)]
    assert stored_keys(sessions) == sorted(results)

    loop_ticks = 0
    release, held = hold_writer(writer)
    pending = asyncio.ensure_future(writer.run(add_key("late")))
    for _ in range(5):
        await asyncio.sleep(0)
        loop_ticks += 1
    assert not pending.done() and loop_ticks == 5, "the loop runs while the writer is busy"
    release.set()
    assert await pending == "late"
    held.result(10)


def test_an_idle_writer_stops_its_thread_and_starts_again_for_new_work(
    sessions: sessionmaker[Session],
) -> None:
    writer = GroupCommit(sessions, idle_seconds=0.05)
    writer.submit(add_key("first")).result(10)
    for _ in range(200):
        if not writer.running:
            break
        threading.Event().wait(0.01)
    else:
        pytest.fail("the idle writer thread did not stop")
    assert writer.submit(add_key("second")).result(10) == "second"
    assert stored_keys(sessions) == ["first", "second"]


def test_a_cancelled_unit_is_never_run(sessions: sessionmaker[Session]) -> None:
    writer = GroupCommit(sessions)
    release, held = hold_writer(writer)
    cancelled = writer.submit(add_key("never"))
    assert cancelled.cancel()
    kept = writer.submit(add_key("kept"))
    release.set()
    assert kept.result(10) == "kept"
    held.result(10)
    assert stored_keys(sessions) == ["kept"]


def test_units_run_on_the_writer_thread_not_the_callers(
    sessions: sessionmaker[Session],
) -> None:
    writer = GroupCommit(sessions)
    ran_on = writer.submit(lambda _session: threading.current_thread().name).result(10)
    assert ran_on == "ledger-writer"
