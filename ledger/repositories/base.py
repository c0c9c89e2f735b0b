"""What every repository shares: the session it works in and dialect-aware idempotent inserts."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, Generic, Self, TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

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

    def _insert_if_absent(self, values: Mapping[str, Any], *, conflict_on: str) -> bool:
        """INSERT … ON CONFLICT (conflict_on) DO NOTHING; True when this call created the row.

        A conflict on any *other* unique column still raises: that is a genuine clash.
        """
        statement = (
            _dialect_insert(self.session, self.model)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[conflict_on])
            .returning(self.model.__table__.c[conflict_on])
        )
        return self.session.execute(statement).first() is not None

    def _upsert(
        self,
        values: Mapping[str, Any],
        *,
        conflict_on: str,
        update: Mapping[str, Any],
        update_when: ColumnElement[bool] | None = None,
    ) -> bool:
        """INSERT … ON CONFLICT (conflict_on) DO UPDATE; True when a row was written at all.

        ``update`` may refer to ``excluded(column)`` for the incoming value; ``update_when``
        limits the update to rows it matches (it is False when nothing changed).
        """
        insert = _dialect_insert(self.session, self.model).values(**values)
        statement = insert.on_conflict_do_update(
            index_elements=[conflict_on], set_=dict(update), where=update_when
        ).returning(self.model.__table__.c[conflict_on])
        return self.session.execute(statement).first() is not None


def excluded(model: type[Base], column: str) -> ColumnElement[Any]:
    """The value an INSERT tried to write, inside its ON CONFLICT clause (same on both dialects)."""
    return _excluded_alias(model).c[column]


@cache
def _excluded_alias(model: type[Base]) -> Any:
    # One alias per table: building it per column reference cost milliseconds per upsert.
    return model.__table__.alias("excluded")


def _dialect_insert(session: Session, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise UnsupportedDatabase(f"the ledger supports SQLite and PostgreSQL, not {dialect}")
