"""Engines, sessions, units of work and migrations for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000

# One per SQLite engine: its units of work take turns inside this process (see unit_of_work).
_SQLITE_WRITER_TURNS: weakref.WeakKeyDictionary[Engine, threading.RLock] = (
    weakref.WeakKeyDictionary()
)


def normalize_url(url: str | URL) -> URL:
    """Parse ``url``; a bare ``postgresql://`` (or ``postgres://``) means psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_ledger_engine(url: str) -> Engine:
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True)


def _create_sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _configure_connection(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite (it would BEGIN only before DML and
        # commit behind our back on DDL); the "begin" hook below issues BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _switch_to_wal(cursor)
        # FULL, not the faster NORMAL: with NORMAL a power loss can drop the last commits, among
        # them an outbox row or its "sent" mark, and the retried send would reach the debtor a
        # second time (a contact that counts against the legal limits). Durability wins here.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, where busy_timeout waits for it. A deferred
        # transaction that reads and then writes fails at once with SQLITE_BUSY when another
        # process (the worker, the API) wrote in between; waiting is what we want instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    _SQLITE_WRITER_TURNS[engine] = threading.RLock()
    return engine


def _switch_to_wal(cursor: Any) -> None:
    """Switching a new database to WAL needs an exclusive lock and SQLite does not wait for it
    in the busy handler: when another process is creating the same file at that moment (the
    worker and the API starting together), try again until the busy timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Objects stay readable after commit: activities return them after the unit of work ends.
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commits when the block succeeds, rolls back when it raises."""
    # The turn is taken after the session is built and given back before it is closed: only
    # the transaction itself needs it.
    with factory() as session, _writer_turn(session.get_bind()), session.begin():
        yield session


@contextmanager
def _writer_turn(bind: object) -> Iterator[None]:
    """On SQLite, wait for this process's other units of work on the engine to finish.

    Every SQLite unit of work holds the database's write lock (BEGIN IMMEDIATE), so they run
    one at a time anyway. Waiting for them in SQLite's busy handler means sleeping in steps of
    up to 100 ms and retrying, each waiter holding a pooled connection (16 activity threads
    overflow the pool, which then opens and closes connections). A lock hands the turn over
    at once and leaves one connection in use. Other processes (the API, a second worker)
    still meet at the SQLite lock, and so does a nested unit of work (the RLock lets it
    through to BEGIN IMMEDIATE, which times out as before). After the busy timeout a waiter
    goes ahead to SQLite, which then reports "database is locked" as it always did.
    """
    turn = _SQLITE_WRITER_TURNS.get(bind) if isinstance(bind, Engine) else None
    if turn is None:
        yield
        return
    mine = turn.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        yield
    finally:
        if mine:
            turn.release()


def make_alembic_config(url: str) -> Config:
    """Alembic configured in code: no alembic.ini, the URL travels in ``attributes``.

    Use it for any alembic command, e.g. ``command.revision(make_alembic_config(url),
    message="...", autogenerate=True)``.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not a main option: configparser would choke on '%' in passwords.
    config.attributes["ledger_url"] = normalize_url(url).render_as_string(hide_password=False)
    return config


def upgrade_to_head(url: str) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there.

    Two processes may call this at once (worker and API starting together): env.py takes a
    lock before reading the version table (BEGIN IMMEDIATE on SQLite, an advisory lock on
    PostgreSQL), so the second one waits and then finds the schema current. Should a race
    still surface as "already exists" (a table created outside alembic between the version
    check and the DDL), one more run re-reads the version table: it either finds head or
    raises the real error.
    """
    config = make_alembic_config(url)
    try:
        command.upgrade(config, "head")
    except (OperationalError, ProgrammingError) as error:
        if "already exists" not in str(error):
            raise
        command.upgrade(config, "head")
