from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from ledger.models import Payment
from ledger.repositories import PaymentRepository
from ledger.types import UTCDateTime

SANTIAGO = ZoneInfo("America/Santiago")


def _pay(session: Session, paid_at: datetime) -> None:
    PaymentRepository.from_session(session).add_if_absent(
        id="P-1",
        invoice_number="F-1",
        customer_id=None,
        amount_minor=100,
        currency="CLP",
        paid_at=paid_at,
        reference=None,
    )


def _stored_paid_at(session: Session) -> datetime:
    session.expire_all()  # read what the database holds, not the copy in the session
    return session.scalars(select(Payment.paid_at).where(Payment.id == "P-1")).one()


def test_an_aware_time_comes_back_as_the_same_instant_in_utc(session: Session) -> None:
    local = datetime(2025, 3, 31, 9, 30, 15, 123456, tzinfo=SANTIAGO)

    _pay(session, local)

    stored = _stored_paid_at(session)
    assert stored == local
    assert stored.tzinfo is UTC
    assert stored == datetime(2025, 3, 31, 12, 30, 15, 123456, tzinfo=UTC)


def test_a_naive_time_is_refused_on_write(session: Session) -> None:
    with pytest.raises(StatementError, match="naive datetime") as raised:
        _pay(session, datetime(2025, 3, 31, 9, 30))
    assert isinstance(raised.value.orig, ValueError)


def test_times_compare_in_utc_across_offsets(session: Session) -> None:
    _pay(session, datetime(2025, 1, 1, 23, 0, tzinfo=timezone(timedelta(hours=-5))))

    found = session.scalars(
        select(Payment.id).where(Payment.paid_at == datetime(2025, 1, 2, 4, 0, tzinfo=UTC))
    ).all()
    assert found == ["P-1"]


@pytest.mark.parametrize(
    "dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"]
)
def test_the_type_itself_converts_both_ways(dialect: Dialect) -> None:
    column_type = UTCDateTime()
    aware = datetime(2025, 6, 1, 8, 0, tzinfo=SANTIAGO)

    bound = column_type.process_bind_param(aware, dialect)
    read = column_type.process_result_value(bound, dialect)

    assert read == aware and read is not None and read.tzinfo is UTC
    assert column_type.process_bind_param(None, dialect) is None
    with pytest.raises(ValueError, match="naive datetime"):
        column_type.process_bind_param(datetime(2025, 6, 1), dialect)
