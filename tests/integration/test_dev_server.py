"""On a real Temporal dev server: the command line issues an invoice, a worker process sends
its message; a worker killed between the outbox write and the provider call is replaced, and
the message goes out once. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import signal
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.models import OutboxMessage
from tests.integration.processes import REPO, cli, environment, eventually, spawn, stop
from tests.ledger_support import postgres_schema_url, sqlite_url

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    with postgres_schema_url() as url:
        yield url


async def test_a_worker_killed_mid_send_is_replaced_and_the_message_goes_out_once(
    dev_server, ledger_url, tmp_path
):
    address = dev_server.client.service_client.config.target_host
    env = environment(
        temporal_address=address,
        database_url=ledger_url,
        task_queue=f"it-{uuid.uuid4().hex[:8]}",
        relax_contact_windows="true",
    )
    sessions = make_session_factory(create_ledger_engine(ledger_url))
    # Workflow ids are per invoice number, and the dev server outlives each test.
    number = f"F-{uuid.uuid4().hex[:6]}"
    marker = tmp_path / "about-to-send"
    stalling = spawn(
        ["-m", "tests.integration.stalling_worker", str(marker)], env, REPO, tmp_path / "w1.log"
    )
    replacement = None
    try:
        today = datetime.now(ZoneInfo("America/Santiago")).date()  # the customer's calendar
        issued = cli(
            [
                "issue",
                "--invoice",
                number,
                "--customer",
                f"C-9-{uuid.uuid4().hex[:6]}",
                "--amount",
                "1250000",
                "--currency",
                "CLP",
                "--issued",
                str(today - timedelta(days=31)),
                "--due",
                str(today - timedelta(days=1)),
                "--name",
                "Ferretería Los Andes SpA",
                "--email",
                "pagos@losandes.cl",
            ],
            env,
            tmp_path,
        )
        assert issued.returncode == 0, issued.stderr
        assert f"Invoice {number} issued" in issued.stdout

        key = await eventually(
            lambda: marker.exists() and marker.read_text(), timeout=60, what="the first send"
        )
        with unit_of_work(sessions) as session:
            row = session.scalars(select(OutboxMessage)).one()
            assert (row.idempotency_key, row.status, row.attempts) == (key, "pending", 1)

        stalling.send_signal(signal.SIGKILL)
        assert stalling.wait(timeout=10) == -signal.SIGKILL

        replacement = spawn([str(REPO / "worker.py")], env, REPO, tmp_path / "w2.log")

        def sent() -> bool:
            with unit_of_work(sessions) as session:
                return session.scalars(select(OutboxMessage.status)).one() == "sent"

        # The server retries the activity once its 30 s start-to-close timeout lapses.
        await eventually(sent, timeout=90, what="the retried send")
        with unit_of_work(sessions) as session:
            keys = session.execute(
                select(OutboxMessage.idempotency_key, func.count()).group_by(
                    OutboxMessage.idempotency_key
                )
            ).all()
            row = session.scalars(select(OutboxMessage)).one()
        assert keys == [(key, 1)]
        assert (row.attempts, row.provider) == (2, "console")

        status = cli(["status", number, "--json"], env, tmp_path)
        assert status.returncode == 0, status.stderr
        answer = json.loads(status.stdout)
        sent_events = [e for e in answer["timeline"] if e["kind"] == "message_sent"]
        assert [e["detail"]["idempotency_key"] for e in sent_events] == [key]
        assert answer["stage"] == "overdue"
        assert answer["next_action"]["at"] is not None, "the workflow goes on to its next step"
    finally:
        stop(stalling)
        if replacement is not None:
            assert stop(replacement) == 0, "the worker stops cleanly on SIGTERM"
