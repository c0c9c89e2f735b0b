"""Customers (debtors): contact points, country, time zone, locale, segment."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select

from ledger.models import Customer
from ledger.repositories.base import Repository, excluded
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
)


class CustomerRepository(Repository[Customer]):
    model = Customer

    def get(self, customer_id: str) -> Customer | None:
        return self._get(customer_id)

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
    ) -> Customer:
        """Create the customer or bring it up to date; re-sending the same data changes nothing."""
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
        }
        now = utc_now()
        changed = or_(
            *(
                getattr(Customer, field).is_distinct_from(excluded(Customer, field))
                for field in _ERP_FIELDS
            )
        )
        self._upsert(
            {"id": id, **values, "created_at": now, "updated_at": now},
            conflict_on="id",
            update={
                **{field: excluded(Customer, field) for field in _ERP_FIELDS},
                "updated_at": now,
            },
            update_when=changed,
        )
        return self._refreshed(id)

    def list_all(self) -> Sequence[Customer]:
        return self.session.scalars(select(Customer).order_by(Customer.id)).all()


def _country_code(country: str) -> str:
    code = country.strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise ValueError(f"country must be an ISO 3166 alpha-2 code such as 'CL', got {country!r}")
    return code


def _time_zone(name: str) -> str:
    # Quiet hours are computed in this zone, so an unknown name must fail here, not at send time.
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown IANA time zone {name!r}") from error
    return name
