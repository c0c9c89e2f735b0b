"""What every repository shares: the session it works in and dialect-aware idempotent inserts."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, Generic, Self, TypeVar, cast

from sqlalchemy import ColumnElement, CursorResult, Executable, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from ledger.models import Base

ModelT = TypeVar("ModelT", bound=Base)


class UnsupportedDatabase(RuntimeError):
    pass


class RecordNotFound(LookupError):
    """The row a write refers to does not exist (a get() returns None instead)."""


class Repository(Generic[ModelT]):
    """Queries for one aggregate. Never commits: the caller's unit of work does."""

    model: type[ModelT]

    def __init__(self, session: Session) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: Session) -> Self:
        return cls(session)

    def _get(self, key: Any) -> ModelT | None:
        return self.session.get(self.model, key)

    def _get_or_raise(self, key: Any) -> ModelT:
        found = self._get(key)
        if found is None:
            raise RecordNotFound(f"no {self.model.__tablename__} row with key {key!r}")
        return found

    def _refreshed(self, key: Any) -> ModelT:
        """The row as the database has it now, even if an older copy sits in the session."""
        found = self.session.get(self.model, key, populate_existing=True)
        if found is None:
            raise RecordNotFound(f"no {self.model.__tablename__} row with key {key!r}")
        return found

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def _run(self, statement: Executable, params: Mapping[str, Any]) -> CursorResult[Any]:
        """A Core statement with its values as parameters, on the unit of work's connection.

        Built once and reused, a statement is compiled once (SQLAlchemy's compiled cache):
        building one per call with ``.values(...)`` and running it through the ORM costs far
        more than the query itself. No autoflush happens here, as for any Core statement.
        """
        return self.session.connection().execute(statement, params)

    def _insert_if_absent(self, values: Mapping[str, Any], *, conflict_on: str) -> bool:
        """INSERT … ON CONFLICT (conflict_on) DO NOTHING; True when this call created the row.

        A conflict on any *other* unique column still raises: that is a genuine clash.
        """
        statement = _insert_if_absent_statement(self._dialect, table_of(self.model), conflict_on)
        return self._run(statement, values).first() is not None


def excluded(model: type[Base], column: str) -> ColumnElement[Any]:
    """The value an INSERT tried to write, inside its ON CONFLICT clause (same on both dialects)."""
    return _excluded_alias(model).c[column]


@cache
def _excluded_alias(model: type[Base]) -> Any:
    # One alias per table: building it per column reference cost milliseconds per upsert.
    return model.__table__.alias("excluded")


def table_of(model: type[Base]) -> Table:
    """The model's Core table (declarative types ``__table__`` as any FromClause)."""
    return cast(Table, model.__table__)


def dialect_insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """A Core INSERT with ``on_conflict_do_…`` for ``dialect`` (on the table, not the ORM class:
    an ORM-enabled insert goes through the ORM's bulk-persistence machinery for nothing)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise UnsupportedDatabase(f"the ledger supports SQLite and PostgreSQL, not {dialect}")


@cache
def _insert_if_absent_statement(
    dialect: str, table: Table, conflict_on: str
) -> ReturningInsert[Any]:
    # The values come as execution parameters, so one statement (and one compilation) per
    # table serves every call.
    return (
        dialect_insert(dialect, table)
        .on_conflict_do_nothing(index_elements=[conflict_on])
        .returning(table.c[conflict_on])
    )
