from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ledger.audit import GENESIS, content_hash, verify_chains
from ledger.db import create_ledger_engine, make_alembic_config, upgrade_to_head
from ledger.models import Interaction
from ledger.repositories import InteractionRepository
from tests.ledger_support import at, postgres_schema_url, sqlite_url


def _append(
    session: Session,
    event_key: str,
    *,
    customer_id: str = "C-1",
    invoice_number: str = "F-1",
    occurred_at: datetime | None = None,
) -> bool:
    return InteractionRepository.from_session(session).append(
        event_key=event_key,
        occurred_at=occurred_at or at("2025-04-01 13:00"),
        invoice_number=invoice_number,
        customer_id=customer_id,
        workflow_id=f"invoice-{invoice_number}",
        kind="message_sent",
        step_id="d+1-email",
        channel="email",
        template="reminder_overdue",
        status="sent",
        detail={"provider_message_id": f"pm-{event_key}", "amount_due_minor": 1_250_000},
    )


def _lines(session: Session, customer_id: str = "C-1") -> list[Interaction]:
    session.expire_all()
    return list(
        session.query(Interaction)
        .filter(Interaction.customer_id == customer_id)
        .order_by(Interaction.id)
    )


def _allow_edits(session: Session) -> None:
    """Lift the append-only triggers inside the test's transaction (rolled back after it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("ALTER TABLE interactions DISABLE TRIGGER interactions_no_update_or_delete")
        )
    else:
        session.execute(text("DROP TRIGGER interactions_no_update"))
        session.execute(text("DROP TRIGGER interactions_no_delete"))


def test_each_line_links_to_its_customers_previous_line(session: Session) -> None:
    _append(session, "a")
    _append(session, "x", customer_id="C-2")
    _append(session, "b")

    first, second = _lines(session)
    [other] = _lines(session, "C-2")
    assert first.prev_hash == GENESIS and other.prev_hash == GENESIS
    assert second.prev_hash == first.row_hash
    assert first.row_hash == content_hash(
        {
            "event_key": "a",
            "occurred_at": at("2025-04-01 13:00"),
            "invoice_number": "F-1",
            "customer_id": "C-1",
            "workflow_id": "invoice-F-1",
            "kind": "message_sent",
            "step_id": "d+1-email",
            "channel": "email",
            "template": "reminder_overdue",
            "status": "sent",
            "detail": {"provider_message_id": "pm-a", "amount_due_minor": 1_250_000},
        },
        GENESIS,
    )
    report = verify_chains(session)
    assert report.intact and (report.customers, report.lines) == (2, 3)


def test_a_repeated_event_key_neither_adds_a_line_nor_moves_the_chain(session: Session) -> None:
    _append(session, "a")
    assert _append(session, "a") is False
    _append(session, "b")

    first, second = _lines(session)
    assert second.prev_hash == first.row_hash
    assert verify_chains(session).intact


def test_verify_names_a_line_whose_content_was_edited(session: Session) -> None:
    for key in ("a", "b", "c"):
        _append(session, key)
    _allow_edits(session)
    session.execute(
        text("UPDATE interactions SET detail = :detail WHERE event_key = 'b'"),
        {"detail": '{"provider_message_id": "forged"}'},
    )

    [broken] = verify_chains(session).broken
    assert (broken.event_key, broken.problem) == ("b", "content changed")
    assert broken.interaction_id == _lines(session)[1].id


def test_verify_names_the_line_after_a_deleted_one(session: Session) -> None:
    for key in ("a", "b", "c", "d"):
        _append(session, key)
    _allow_edits(session)
    session.execute(text("DELETE FROM interactions WHERE event_key = 'b'"))

    [broken] = verify_chains(session, "C-1").broken
    assert (broken.event_key, broken.problem) == ("c", "row missing")


def test_verify_names_a_line_rewritten_with_a_fresh_hash_through_its_successor(
    session: Session,
) -> None:
    for key in ("a", "b", "c"):
        _append(session, key)
    forged = _lines(session)[1]
    values = {column: getattr(forged, column) for column in ("event_key", "occurred_at")}
    values.update(
        invoice_number="F-1", customer_id="C-1", workflow_id="invoice-F-1", kind="opt_out"
    )
    _allow_edits(session)
    session.execute(
        text(
            "UPDATE interactions SET kind = 'opt_out', step_id = NULL, channel = NULL,"
            " template = NULL, status = NULL, detail = '{}', row_hash = :hash WHERE id = :id"
        ),
        {"hash": content_hash(values, forged.prev_hash or ""), "id": forged.id},
    )

    [broken] = verify_chains(session).broken
    assert broken.event_key == "c"


def test_other_customers_chains_are_not_blamed(session: Session) -> None:
    _append(session, "a")
    _append(session, "x", customer_id="C-2")
    _append(session, "b")
    _allow_edits(session)
    session.execute(text("UPDATE interactions SET status = 'failed' WHERE event_key = 'a'"))

    report = verify_chains(session)
    assert [(line.customer_id, line.event_key) for line in report.broken] == [("C-1", "a")]
    assert verify_chains(session, "C-2").intact


def test_the_migration_chains_the_lines_written_before_it(empty_url: str) -> None:
    config = make_alembic_config(empty_url)
    command.upgrade(config, "0007")
    engine = create_ledger_engine(empty_url)
    try:
        with engine.begin() as connection:
            for number, (customer, minute) in enumerate(
                [("C-1", 5), ("C-2", 1), ("C-1", 2), ("C-1", 9)]
            ):
                connection.execute(
                    text(
                        "INSERT INTO interactions (event_key, occurred_at, invoice_number,"
                        " customer_id, workflow_id, kind, detail, recorded_at) VALUES (:key,"
                        " :at, 'F-1', :customer, 'invoice-F-1', 'message_sent', :detail, :at)"
                    ),
                    {
                        "key": f"old-{number}",
                        "at": at(f"2025-04-01 10:0{minute}"),
                        "customer": customer,
                        "detail": json.dumps({"n": number}),
                    },
                )
        upgrade_to_head(empty_url)
        with Session(engine) as session, session.begin():
            report = verify_chains(session)
            assert report.intact and report.lines == 4
            # The guard is back: the table refuses edits again.
            with pytest.raises(DBAPIError, match="append-only"):
                session.execute(text("UPDATE interactions SET status = 'x'"))
    finally:
        engine.dispose()


def _append_concurrently(url: str, appends_per_writer: int) -> None:
    engine = create_ledger_engine(url)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait()
            for number in range(appends_per_writer):
                with Session(engine) as session, session.begin():
                    _append(
                        session,
                        f"{name}-{number}",
                        occurred_at=at("2025-04-01 13:00") + timedelta(seconds=number),
                    )
        except BaseException as error:  # reported by the test below
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        with Session(engine) as session:
            report = verify_chains(session)
            assert report.intact, report.as_dict()
            assert report.lines == 2 * appends_per_writer
            hashes = [line.prev_hash for line in _lines(session)]
            assert len(set(hashes)) == len(hashes)  # no two lines share a predecessor
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_two_sessions_appending_for_one_customer_on_postgresql_never_fork_the_chain() -> None:
    with postgres_schema_url() as url:
        _append_concurrently(url, 60)


def test_two_sessions_appending_for_one_customer_on_sqlite_never_fork_the_chain(
    tmp_path: Path,
) -> None:
    _append_concurrently(sqlite_url(tmp_path), 30)
