"""Group commit: requests that arrive together share a transaction, never each other's errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from api.group_commit import GroupCommit
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.models import ApiKey
from tests.ledger_support import sqlite_url


async def test_one_failing_request_rolls_back_only_its_own_writes(tmp_path: Path) -> None:
    engine = create_ledger_engine(sqlite_url(tmp_path))
    sessions = make_session_factory(engine)
    commits: list[object] = []

    event.listen(engine, "commit", lambda connection: commits.append(connection))
    group = GroupCommit(sessions)

    def add(key_id: str, fail: bool = False):
        def work(session):
            session.add(ApiKey(id=key_id, name=key_id, role="erp", secret_sha256="x"))
            session.flush()
            if fail:
                raise ValueError(f"{key_id} refused")
            return key_id

        return work

    results = await asyncio.gather(
        group.run(add("k1")),
        group.run(add("k2", fail=True)),
        group.run(add("k3")),
        return_exceptions=True,
    )
    assert results[0] == "k1" and results[2] == "k3"
    assert isinstance(results[1], ValueError) and "k2 refused" in str(results[1])
    assert len(commits) == 1, "the three requests shared one commit"
    with unit_of_work(sessions) as session:
        assert sorted(session.scalars(select(ApiKey.id))) == ["k1", "k3"]
        assert session.scalar(select(func.count()).select_from(ApiKey)) == 2
    with pytest.raises(ValueError, match="alone"):
        await group.run(lambda session: (_ for _ in ()).throw(ValueError("alone")))
    engine.dispose()
