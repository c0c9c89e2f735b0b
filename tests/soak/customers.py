"""The many Chilean companies a soak or a scale run bills: one customer per invoice, email only,
on a policy named by the run."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from ledger.db import unit_of_work
from ledger.repositories.customers import CustomerRepository

ZONE = "America/Santiago"


def add_customers(
    sessions: sessionmaker[Session], numbers: list[str], policy_name: str, *, run: str = ""
) -> None:
    """``C-<number>`` for each invoice number; ``run`` keeps email addresses apart between runs
    on one ledger."""
    tag = f"-{run}" if run else ""
    with unit_of_work(sessions) as session:
        customers = CustomerRepository.from_session(session)
        for number in numbers:
            customers.upsert(
                id=f"C-{number}",
                name=f"Comercial {number} SpA",
                email=f"pagos+{number.lower()}{tag}@ejemplo.cl",
                phone=None,
                whatsapp=None,
                country="CL",
                timezone=ZONE,
                locale="es_CL",
                segment=None,
                policy_override=policy_name,
                debt_type="business",
            )
