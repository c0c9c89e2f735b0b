from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from ledger.db import (
    create_ledger_engine,
    make_session_factory,
    normalize_url,
    unit_of_work,
    upgrade_to_head,
)
from ledger.models import Customer
from ledger.repositories import CustomerRepository
from tests.ledger_support import make_customer


def test_the_engine_is_configured_for_its_backend(empty_url: str) -> None:
    engine = create_ledger_engine(empty_url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                settings = [
                    connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "foreign_keys", "busy_timeout")
                ]
                assert settings == ["wal", 1, 30_000]
            else:
                assert engine.dialect.driver == "psycopg"
                schema = connection.execute(text("SELECT current_schema()")).scalar()
                assert str(schema).startswith("dunning_t_")
    finally:
        engine.dispose()


def test_a_sqlite_ledger_creates_its_folder(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'data' / 'nested' / 'ledger.db').as_posix()}"

    upgrade_to_head(url)

    assert (tmp_path / "data" / "nested" / "ledger.db").is_file()


def test_a_bare_postgresql_url_means_psycopg_3() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"


def test_a_unit_of_work_commits_when_the_block_succeeds(empty_url: str) -> None:
    upgrade_to_head(empty_url)
    engine = create_ledger_engine(empty_url)
    factory = make_session_factory(engine)
    try:
        with unit_of_work(factory) as session:
            customer = make_customer(session, "C-1")

        # expire_on_commit=False: what the unit of work returned stays readable afterwards.
        assert customer.name == "Comercial Los Andes SpA"
        with unit_of_work(factory) as session:
            assert CustomerRepository.from_session(session).get("C-1") is not None
    finally:
        engine.dispose()


def test_a_unit_of_work_rolls_back_when_the_block_raises(empty_url: str) -> None:
    upgrade_to_head(empty_url)
    engine = create_ledger_engine(empty_url)
    factory = make_session_factory(engine)
    try:
        with pytest.raises(RuntimeError, match="provider down"), unit_of_work(factory) as session:
            make_customer(session, "C-1")
            raise RuntimeError("provider down")

        with unit_of_work(factory) as session:
            assert session.scalar(select(func.count()).select_from(Customer)) == 0
    finally:
        engine.dispose()
