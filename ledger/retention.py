"""Retention: how long the ledger keeps a collection's records, and the purge that honours it.

Every rule pack we ship names how long its law wants collection records kept
(``ContactRules.record_retention_years``: Chile 2 years, United States 3, Mexico 10, the
defaults 3 and 5). One ledger serves customers of every country, so the purge keeps the longest
of them: no record younger than that ever leaves, whoever the customer.

What a purge removes, for invoices closed before the cut-off date and untouched since:
their outbox messages (with the bodies, the personal data), tasks, promises, disputes and
agency handoffs, and their bitácora lines. Invoices, payments, credit notes and credits stay:
they are the books, kept under accounting law by the ERP that owns them.

The bitácora's hash chain survives the purge. Only the oldest lines of a customer's chain can
go (the longest run, in id order, of purgeable lines): a line of an open invoice stops the run,
and the later lines wait for a later purge. The purge then appends a ``records_purged`` line,
itself chained, naming the hash of the last line it removed (``anchor_hash``) and how many it
removed, so ``ledger.audit`` can start the walk at the first surviving line and any other
deletion still shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import delete, exists, select, text
from sqlalchemy.orm import Session

from dunning_policies.jurisdictions import (
    BUSINESS_DEFAULT,
    CHILE_CONSUMER,
    CONSUMER_DEFAULT,
    MEXICO,
    UNITED_STATES_CONSUMER,
)
from ledger.audit import PURGE_KIND
from ledger.models import (
    DisputeCase,
    Handoff,
    Interaction,
    Invoice,
    OutboxMessage,
    Promise,
    Task,
)
from ledger.repositories.base import table_of
from ledger.repositories.interactions import InteractionRepository

RULE_PACKS = (CHILE_CONSUMER, MEXICO, UNITED_STATES_CONSUMER, BUSINESS_DEFAULT, CONSUMER_DEFAULT)
RETENTION_YEARS = max(3, *(pack.record_retention_years for pack in RULE_PACKS))
"""The longest period any shipped rule pack keeps records for (never under three years)."""

APPEND_ONLY_MESSAGE = "interactions is append-only"
# Tables whose rows belong to one invoice and go with it.
_PER_INVOICE = (OutboxMessage, Task, Promise, DisputeCase, Handoff)


class PurgeRefused(ValueError):
    """The cut-off date would remove records the law still wants kept."""


def earliest_allowed_cutoff(today: date) -> date:
    """The latest cut-off date a purge accepts on ``today``: today minus the retention period."""
    try:
        return today.replace(year=today.year - RETENTION_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - RETENTION_YEARS, day=28)


@dataclass
class PurgeResult:
    before: date
    dry_run: bool
    invoices: list[str] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=dict)
    customers_anchored: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "before": self.before.isoformat(),
            "dry_run": self.dry_run,
            "invoices": len(self.invoices),
            "removed": self.removed,
            "customers_anchored": self.customers_anchored,
        }


def purge(
    session: Session, before: date, *, today: date, dry_run: bool, now: datetime
) -> PurgeResult:
    """Remove the records of invoices closed before ``before`` (see the module's docstring).

    Raises ``PurgeRefused`` when ``before`` is later than ``today`` minus the retention period.
    Never commits: the caller's unit of work does.
    """
    limit = earliest_allowed_cutoff(today)
    if before > limit:
        raise PurgeRefused(
            f"records are kept {RETENTION_YEARS} years (the longest period among the rule "
            f"packs); the latest cut-off allowed today is {limit.isoformat()}, "
            f"not {before.isoformat()}"
        )
    cutoff = datetime.combine(before, time(0), tzinfo=UTC)
    result = PurgeResult(before=before, dry_run=dry_run)
    result.invoices = list(_purgeable_invoices(session, cutoff))
    for model in _PER_INVOICE:
        table = table_of(model)
        rows = list(
            session.scalars(
                select(table.c.invoice_number).where(table.c.invoice_number.in_(result.invoices))
            )
        )
        result.removed[str(model.__tablename__)] = len(rows)
        if not dry_run and rows:
            session.execute(delete(table).where(table.c.invoice_number.in_(result.invoices)))
    prefixes = _chain_prefixes(session, set(result.invoices), cutoff)
    result.removed["interactions"] = sum(len(lines) for lines in prefixes.values())
    result.customers_anchored = len(prefixes)
    if not dry_run and prefixes:
        _remove_lines(session, prefixes, now)
    return result


def _purgeable_invoices(session: Session, cutoff: datetime) -> Sequence[str]:
    recent_line = exists().where(
        Interaction.invoice_number == Invoice.number,
        Interaction.occurred_at >= cutoff,
        Interaction.kind != PURGE_KIND,
    )
    return session.scalars(
        select(Invoice.number)
        .where(
            Invoice.closed_reason.is_not(None),
            Invoice.updated_at < cutoff,
            ~recent_line,
        )
        .order_by(Invoice.number)
    ).all()


def _chain_prefixes(
    session: Session, invoices: set[str], cutoff: datetime
) -> dict[str, list[Interaction]]:
    """Per customer, the oldest run of lines that may all go."""
    prefixes: dict[str, list[Interaction]] = {}
    stopped: set[str] = set()
    lines = session.scalars(select(Interaction).order_by(Interaction.customer_id, Interaction.id))
    for line in lines:
        if line.customer_id in stopped:
            continue
        old_enough = line.occurred_at < cutoff
        if (line.invoice_number in invoices or line.kind == PURGE_KIND) and old_enough:
            prefixes.setdefault(line.customer_id, []).append(line)
        else:
            stopped.add(line.customer_id)
    # A run made only of earlier purge lines has nothing to remove.
    return {
        customer: run
        for customer, run in prefixes.items()
        if any(line.kind != PURGE_KIND for line in run)
    }


def _remove_lines(session: Session, prefixes: dict[str, list[Interaction]], now: datetime) -> None:
    ids = [line.id for run in prefixes.values() for line in run]
    with _deletions_allowed(session):
        session.execute(delete(Interaction).where(Interaction.id.in_(ids)))
    session.expire_all()
    bitacora = InteractionRepository.from_session(session)
    for customer_id, run in prefixes.items():
        last = run[-1]
        bitacora.append(
            event_key=f"retention-purge:{customer_id}:{last.id}",
            occurred_at=now,
            invoice_number=last.invoice_number,
            customer_id=customer_id,
            workflow_id="retention-purge",
            kind=PURGE_KIND,
            detail={
                "anchor_hash": last.row_hash,
                "through_id": last.id,
                "lines_removed": len(run),
                "retention_years": RETENTION_YEARS,
            },
        )


class _deletions_allowed:
    """Lift the append-only trigger's DELETE guard for this transaction only.

    Both statements are transactional (PostgreSQL's ALTER TABLE, SQLite's DROP/CREATE
    TRIGGER), so a failed purge rolls the guard back with it, and no other writer ever sees
    the table unguarded: the ALTER holds an exclusive lock, SQLite's write lock is ours.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def __enter__(self) -> None:
        if self.postgres:
            self._sql("ALTER TABLE interactions DISABLE TRIGGER interactions_no_update_or_delete")
        else:
            self._sql("DROP TRIGGER interactions_no_delete")

    def __exit__(self, *exc: object) -> None:
        if self.postgres:
            self._sql("ALTER TABLE interactions ENABLE TRIGGER interactions_no_update_or_delete")
        else:
            self._sql(
                "CREATE TRIGGER interactions_no_delete BEFORE DELETE ON interactions BEGIN"
                f" SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: DELETE refused'); END"
            )

    def _sql(self, statement: str) -> None:
        self.session.execute(text(statement))
