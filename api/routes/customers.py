"""A customer's statement: open items, balance, credit, blocked channels, timeline."""

from __future__ import annotations

from fastapi import APIRouter

from api.context import READERS, Context, problem
from api.read_model import customer_statement
from api.routes.invoices import ERRORS
from api.schemas import CustomerStatementOut, Problem
from ledger.db import unit_of_work

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.get("/{customer_id}", dependencies=[READERS], responses={**ERRORS, 404: {"model": Problem}})
def statement(customer_id: str, context: Context) -> CustomerStatementOut:
    with unit_of_work(context.sessions) as session:
        found = customer_statement(session, customer_id)
    if found is None:
        raise problem(404, "customer_id", f"customer {customer_id} is not known")
    return found
