"""Customers (debtors): contact points, country, time zone, locale, segment."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, bindparam, func, or_, select
from sqlalchemy.sql.dml import ReturningInsert

from ledger.models import DEBT_TYPES, Customer
from ledger.repositories.base import Repository, dialect_insert, excluded, table_of
from ledger.types import utc_now

# Fields the ERP owns: an upsert overwrites them, and touches updated_at only when one changed.
_ERP_FIELDS = (
    "name",
    "email",
    "phone",
    "whatsapp",
    "country",
    "timezone",
    "locale",
    "segment",
    "policy_override",
    "tax_id",
    "debt_type",
    "subdivision",
)


class CustomerRepository(Repository[Customer]):
    model = Customer

    def get(self, customer_id: str) -> Customer | None:
        return self._get(customer_id)

    def snapshot(self, customer_id: str) -> Customer | None:
        """The customer as stored now, for reading only: one Core query, and a ``Customer``
        that is not in the session (changing it saves nothing). Loading through the ORM's
        identity map costs about four times the query, which a send pays on every message."""
        row = self._run(_BY_ID, {"id": customer_id}).first()
        return None if row is None else Customer(**row._mapping)

    def upsert(
        self,
        *,
        id: str,
        name: str,
        email: str | None,
        phone: str | None,
        whatsapp: str | None,
        country: str,
        timezone: str,
        locale: str,
        segment: str | None,
        policy_override: str | None = None,
        tax_id: str | None = None,
        debt_type: str | None = None,
        subdivision: str | None = None,
    ) -> Customer:
        """Create the customer or bring it up to date; re-sending the same data changes nothing.
        Returns the stored row as a detached snapshot (see ``snapshot``)."""
        values = {
            "name": name,
            "email": email,
            "phone": phone,
            "whatsapp": whatsapp,
            "country": _country_code(country),
            "timezone": _time_zone(timezone),
            "locale": locale,
            "segment": segment,
            "policy_override": policy_override,
            "tax_id": tax_id,
            "debt_type": _debt_type(debt_type),
            "subdivision": (subdivision or "").strip() or None,
        }
        now = utc_now()
        self._run(
            _upsert_statement(self._dialect),
            {"id": id, **values, "created_at": now, "updated_at": now},
        )
        stored = self.snapshot(id)
        assert stored is not None  # just written
        return stored

    def list_all(self) -> Sequence[Customer]:
        return self.session.scalars(select(Customer).order_by(Customer.id)).all()


_CUSTOMERS = table_of(Customer)
_BY_ID = select(_CUSTOMERS).where(_CUSTOMERS.c.id == bindparam("id"))


def _incoming(field: str) -> ColumnElement[object]:
    """What an upsert writes to ``field``. An issuance that names no segment keeps the stored
    one (the risk review's, or an earlier ERP's); one that names a segment wins."""
    value = excluded(Customer, field)
    if field == "segment":
        return func.coalesce(value, _CUSTOMERS.c.segment)
    return value


@cache
def _upsert_statement(dialect: str) -> ReturningInsert[Any]:
    """INSERT … ON CONFLICT (id) DO UPDATE the ERP's fields, only when one of them changed
    (then updated_at takes the incoming value, which is now). Built once per dialect; the
    values come as execution parameters."""
    incoming = {field: _incoming(field) for field in _ERP_FIELDS}
    changed = or_(*(_CUSTOMERS.c[field].is_distinct_from(incoming[field]) for field in _ERP_FIELDS))
    return (
        dialect_insert(dialect, _CUSTOMERS)
        .on_conflict_do_update(
            index_elements=["id"],
            set_={
                **incoming,
                "updated_at": excluded(Customer, "updated_at"),
            },
            where=changed,
        )
        .returning(_CUSTOMERS.c.id)
    )


def _country_code(country: str) -> str:
    code = country.strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise ValueError(f"country must be an ISO 3166 alpha-2 code such as 'CL', got {country!r}")
    return code


def _debt_type(value: str | None) -> str | None:
    if value is None:
        return None
    # str(): a StrEnum member is stored as its value, never as its name.
    text = str(value).strip().lower()
    if text not in DEBT_TYPES:
        raise ValueError(f"debt type must be one of {', '.join(DEBT_TYPES)}, got {value!r}")
    return text


def _time_zone(name: str) -> str:
    # Quiet hours are computed in this zone, so an unknown name must fail here, not at send time.
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown IANA time zone {name!r}") from error
    return name
