from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from dunning_policies.jurisdictions import MEXICO, UNITED_STATES_CONSUMER
from ledger.audit import PURGE_KIND, verify_chains
from ledger.models import Interaction, Invoice, OutboxMessage
from ledger.repositories import InteractionRepository
from ledger.retention import (
    RETENTION_YEARS,
    PurgeRefused,
    earliest_allowed_cutoff,
    purge,
)
from tests.ledger.test_dossier import make_collected_invoice
from tests.ledger_support import at, make_invoice

TODAY = date(2026, 11, 24)
NOW = at("2026-11-24 08:00")


def _line(session: Session, key: str, number: str, moment: str) -> None:
    InteractionRepository.from_session(session).append(
        event_key=key,
        occurred_at=at(moment),
        invoice_number=number,
        customer_id="C-1",
        workflow_id=f"invoice-{number}",
        kind="message_sent",
        channel="email",
    )


def _close(session: Session, number: str, moment: str) -> None:
    invoice = session.get(Invoice, number)
    assert invoice is not None
    invoice.closed_reason = "paid"
    invoice.updated_at = at(moment)
    session.flush()


def _count(session: Session, model: type[Interaction] | type[OutboxMessage]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_records_are_kept_as_long_as_the_longest_rule_pack_asks() -> None:
    assert RETENTION_YEARS >= 3
    assert UNITED_STATES_CONSUMER.record_retention_years <= RETENTION_YEARS
    assert RETENTION_YEARS == MEXICO.record_retention_years == 10
    assert earliest_allowed_cutoff(TODAY) == date(2016, 11, 24)
    assert earliest_allowed_cutoff(date(2028, 2, 29)) == date(2018, 2, 28)


def test_a_cutoff_younger_than_the_retention_period_is_refused(session: Session) -> None:
    with pytest.raises(PurgeRefused, match="2016-11-24"):
        purge(session, date(2016, 11, 25), today=TODAY, dry_run=False, now=NOW)


def test_an_invoice_with_lines_after_the_cutoff_is_kept(session: Session) -> None:
    # Closed in 2012 by its projection, but its evidence is dated 2025.
    make_collected_invoice(session, "F-OLD")
    _close(session, "F-OLD", "2012-06-01 00:00")

    result = purge(session, date(2016, 1, 1), today=TODAY, dry_run=False, now=NOW)

    assert result.invoices == []
    assert _count(session, Interaction) == 1 and _count(session, OutboxMessage) == 1


def _old_book(session: Session) -> None:
    """F-OLD closed in 2012, F-OPEN still open; C-1's chain: two old lines, then an open one."""
    make_invoice(session, "F-OLD")
    make_invoice(session, "F-OPEN")
    session.add(
        OutboxMessage(
            idempotency_key="F-OLD:d+1-email",
            invoice_number="F-OLD",
            customer_id="C-1",
            workflow_id="invoice-F-OLD",
            step_id="d+1-email",
            channel="email",
            template="reminder_overdue",
            locale="es_CL",
            recipient="pagos@losandes.cl",
            body="Estimado cliente…",
            status="sent",
            created_at=at("2011-04-01 12:00"),
        )
    )
    _line(session, "old-1", "F-OLD", "2011-04-01 12:00")
    _line(session, "old-2", "F-OLD", "2011-05-01 12:00")
    _line(session, "open-1", "F-OPEN", "2012-01-01 12:00")
    _line(session, "old-3", "F-OLD", "2012-05-01 12:00")
    _close(session, "F-OLD", "2012-06-01 00:00")


def test_a_dry_run_reports_what_a_purge_would_remove(session: Session) -> None:
    _old_book(session)

    result = purge(session, date(2016, 1, 1), today=TODAY, dry_run=True, now=NOW)

    assert result.invoices == ["F-OLD"]
    assert result.removed["outbox"] == 1
    assert result.removed["interactions"] == 2  # old-3 sits after an open invoice's line
    assert _count(session, Interaction) == 4 and _count(session, OutboxMessage) == 1


def test_a_purge_removes_the_old_closed_records_and_the_chain_still_verifies(
    session: Session,
) -> None:
    _old_book(session)

    result = purge(session, date(2016, 1, 1), today=TODAY, dry_run=False, now=NOW)

    assert result.customers_anchored == 1
    keys = session.scalars(select(Interaction.event_key).order_by(Interaction.id)).all()
    assert keys[:2] == ["open-1", "old-3"] and keys[2].startswith("retention-purge:C-1:")
    assert len(keys) == 3
    assert _count(session, OutboxMessage) == 0
    assert session.get(Invoice, "F-OLD") is not None  # the books stay
    purge_line = session.scalars(select(Interaction).where(Interaction.kind == PURGE_KIND)).one()
    assert purge_line.detail["lines_removed"] == 2
    assert verify_chains(session).intact
    # The guard is back after the purge.
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM interactions"))


def test_after_a_purge_a_deleted_line_still_shows(session: Session) -> None:
    _old_book(session)
    purge(session, date(2016, 1, 1), today=TODAY, dry_run=False, now=NOW)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("ALTER TABLE interactions DISABLE TRIGGER interactions_no_update_or_delete")
        )
    else:
        session.execute(text("DROP TRIGGER interactions_no_delete"))
    session.execute(text("DELETE FROM interactions WHERE event_key = 'open-1'"))

    [broken] = verify_chains(session).broken
    assert (broken.event_key, broken.problem) == ("old-3", "row missing")
