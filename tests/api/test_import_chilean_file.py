"""Acceptance: a 10,000-row Chilean invoice file (semicolons, cp1252, decimal comma, RUT) with
300 bad rows of 10 kinds, through ``POST /v1/imports/invoices`` on the real dev server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import create_key
from config.settings import Settings
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.models import Invoice
from tests.flatfiles.chilean_file import BAD_KINDS, build_chilean_invoice_file
from tests.ledger_support import sqlite_url
from tests.temporal_support import start_dev_server
from tests.workflows.harness import today_in_santiago

pytestmark = pytest.mark.slow


@pytest.fixture
async def own_server() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of its own: the 9,700 workflows this test leaves running end with it, and
    do not weigh on the servers the rest of the suite shares."""
    env = await start_dev_server()
    yield env
    await env.shutdown()


@pytest.fixture
async def api(
    own_server: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, object]]:
    settings = Settings(data_dir=tmp_path, task_queue=f"import-{uuid.uuid4().hex[:8]}")
    engine = create_ledger_engine(sqlite_url(tmp_path))
    sessions = make_session_factory(engine)
    key = create_key(sessions, role="erp", name="sap").key
    app = create_app(settings, sessions, own_server.client)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://api.test",
        headers={"Authorization": f"Bearer {key}"},
        timeout=600,
    ) as http:
        yield http, settings, sessions
    engine.dispose()


def invoice_count(sessions) -> int:
    with unit_of_work(sessions) as session:
        return int(session.scalar(select(func.count()).select_from(Invoice)) or 0)


async def running_workflows(env: WorkflowEnvironment, task_queue: str) -> int:
    query = f"WorkflowType = 'InvoiceDunningWorkflow' AND TaskQueue = '{task_queue}'"
    return (await env.client.count_workflows(query)).count


async def test_every_bad_row_is_reported_every_good_row_runs_and_a_repeat_changes_nothing(
    own_server: WorkflowEnvironment, api
) -> None:
    http, settings, sessions = api
    built = build_chilean_invoice_file(today=await today_in_santiago(own_server))
    files = {"file": ("ventas_noviembre.csv", built.data, "text/csv")}

    dry = (await http.post("/v1/imports/invoices", params={"dry_run": "true"}, files=files)).json()
    assert dry["counts"] == {"imported": 9_700, "unchanged": 0, "rejected": 300}
    assert invoice_count(sessions) == 0

    first = await http.post("/v1/imports/invoices", files=files)
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["counts"] == {"imported": 9_700, "unchanged": 0, "rejected": 300}
    assert report["encoding"] == "cp1252"
    rejected = {r["line"]: r for r in report["rejected"]}
    assert set(rejected) == set(built.bad_rows)
    for line, kind in built.bad_rows.items():
        expected = BAD_KINDS[kind]
        assert rejected[line]["column"] == expected.column, (line, kind, rejected[line])
        assert expected.reason in rejected[line]["reason"], (line, kind, rejected[line])
    assert any(
        "Totales" in note["message"] or "total" in note["message"] for note in report["notes"]
    )
    assert invoice_count(sessions) == 9_700
    for _ in range(60):
        if await running_workflows(own_server, settings.task_queue) == 9_700:
            break
        await asyncio.sleep(0.5)
    assert await running_workflows(own_server, settings.task_queue) == 9_700

    again = (await http.post("/v1/imports/invoices", files=files)).json()
    assert again["counts"] == {"imported": 0, "unchanged": 9_700, "rejected": 300}
    dry_again = (
        await http.post("/v1/imports/invoices", params={"dry_run": "true"}, files=files)
    ).json()
    assert dry_again["counts"] == {"imported": 0, "unchanged": 9_700, "rejected": 300}
    assert invoice_count(sessions) == 9_700
    assert await running_workflows(own_server, settings.task_queue) == 9_700
