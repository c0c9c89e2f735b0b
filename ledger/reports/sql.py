"""Date arithmetic that SQLite and PostgreSQL spell differently, as SQLAlchemy expressions.

SQLite keeps ``UTCDateTime`` columns as naive UTC text (``2025-03-31 12:00:00.000000``) and
``Date`` columns as ``2025-03-31``; PostgreSQL keeps ``timestamptz`` and ``date``. Each
construct below compiles to the spelling that compares correctly with those stored values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Date, DateTime, Integer, SQLColumnExpression, String, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class utc_date(FunctionElement[Any]):
    """The UTC calendar day of a ``UTCDateTime`` column."""

    type = Date()
    inherit_cache = True


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    # AT TIME ZONE makes the day UTC's, whatever the session's TimeZone setting says.
    return f"(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC')::date"


class days_before(FunctionElement[Any]):
    """A ``UTCDateTime`` column moved back a whole number of 24-hour days."""

    type = DateTime()
    inherit_cache = True

    def __init__(self, column: SQLColumnExpression[datetime], days: int) -> None:
        if not isinstance(days, int) or days < 0:
            raise ValueError(f"days must be a non-negative integer, got {days!r}")
        self.days = days
        # The day count rides along as a literal clause so that it is part of the statement's
        # cache key: two windows must never share one compiled SQL string.
        super().__init__(column, literal_column(str(days)))


@compiles(days_before, "sqlite")
def _days_before_sqlite(element: days_before, compiler: SQLCompiler, **kw: Any) -> str:
    # %f gives milliseconds: as text, '… 12:00:00.000' sorts before the stored
    # '… 12:00:00.000000', so a message exactly N days before still falls inside the window.
    column = compiler.process(element.clauses.clauses[0], **kw)
    return f"strftime('%Y-%m-%d %H:%M:%f', {column}, '-{element.days} days')"


@compiles(days_before, "postgresql")
def _days_before_postgresql(element: days_before, compiler: SQLCompiler, **kw: Any) -> str:
    # Hours, not days: a '7 days' interval on timestamptz follows the session's DST changes.
    column = compiler.process(element.clauses.clauses[0], **kw)
    return f"(({column}) - interval '{24 * element.days} hours')"


class year_month(FunctionElement[Any]):
    """The ``YYYY-MM`` text of a ``Date`` column: a key to group by calendar month."""

    type = String()
    inherit_cache = True


@compiles(year_month, "sqlite")
def _year_month_sqlite(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(year_month, "postgresql")
def _year_month_postgresql(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


class days_between(FunctionElement[Any]):
    """Whole days from the ``earlier`` date to the ``later`` one (``Date`` expressions)."""

    type = Integer()
    inherit_cache = True

    def __init__(self, later: SQLColumnExpression[Any], earlier: SQLColumnExpression[Any]) -> None:
        super().__init__(later, earlier)


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    # date − date is an integer number of days in PostgreSQL.
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses.clauses)
    return f"(({later}) - ({earlier}))"
