"""Flat-file imports (invoices, payments, bank statements) and bank lines to confirm."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel

from api.bank import StatementFormatError
from api.bank_import import apply_line, import_statement
from api.context import IMPORTERS, Context, problem, require
from api.errors import InvalidRequest
from api.flatfiles.defaults import defaults_for_country
from api.flatfiles.errors import FlatFileError
from api.flatfiles.headers import validate_mapping
from api.imports import import_invoice_file, import_payment_file
from api.routes.invoices import ERRORS
from api.schemas import Problem
from ledger.db import unit_of_work
from ledger.repositories.bank_lines import BankLineRepository

router = APIRouter(prefix="/v1", tags=["imports"])
COLLECTORS = Depends(require("collector", "ops"))
FileUpload = Annotated[UploadFile, File(description="CSV (comma or semicolon) or XLSX.")]
DryRun = Annotated[bool, Query(description="Report what would happen; change nothing.")]
Country = Annotated[
    str, Query(min_length=2, max_length=2, description="Default country of the rows: CL, MX…")
]


class ImportAnswer(BaseModel):
    kind: str
    dry_run: bool
    counts: dict[str, int]
    model_config = {"extra": "allow"}


def _mapping(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        loaded = json.loads(raw)
        if not isinstance(loaded, dict):
            raise ValueError("the mapping must be a JSON object {file header: column}")
        return validate_mapping({str(k): str(v) for k, v in loaded.items()})
    except ValueError as error:
        raise problem(422, "mapping", str(error)) from error


def _defaults(country: str) -> Any:
    try:
        return defaults_for_country(country)
    except ValueError as error:
        raise problem(422, "country", str(error)) from error


@router.post(
    "/imports/invoices",
    dependencies=[IMPORTERS],
    responses={
        **ERRORS,
        422: {"model": Problem, "description": "The file as a whole is unusable."},
    },
)
async def import_invoices(
    file: FileUpload,
    context: Context,
    dry_run: DryRun = False,
    country: Country = "CL",
    mapping: Annotated[str | None, Form(description="JSON {file header: column}.")] = None,
) -> ImportAnswer:
    """Every row ends imported, unchanged or rejected (line, column, value, reason)."""
    data = await file.read()
    try:
        report = await import_invoice_file(
            context.temporal,
            context.sessions,
            context.settings.task_queue,
            data,
            filename=file.filename,
            mapping=_mapping(mapping),
            defaults=_defaults(country),
            dry_run=dry_run,
            respect_contact_window=not context.settings.relax_contact_windows,
        )
    except FlatFileError as error:
        raise problem(422, "file", str(error)) from error
    return ImportAnswer(**report.as_dict())


@router.post("/imports/payments", dependencies=[IMPORTERS], responses=ERRORS)
async def import_payments(
    file: FileUpload,
    context: Context,
    dry_run: DryRun = False,
    source: Annotated[
        Literal["payments", "bank"],
        Query(description="payments: one row per payment; bank: a bank statement (CSV, camt.053)"),
    ] = "payments",
    country: Country = "CL",
    currency: Annotated[str, Query(min_length=3, max_length=3)] = "CLP",
    mapping: Annotated[str | None, Form()] = None,
) -> ImportAnswer:
    data = await file.read()
    try:
        if source == "bank" or data.lstrip().startswith(b"<"):
            statement = await import_statement(
                context.temporal,
                context.sessions,
                data,
                filename=file.filename,
                currency=currency.upper(),
                dry_run=dry_run,
            )
            return ImportAnswer(**statement.as_dict())
        report = await import_payment_file(
            context.temporal,
            context.sessions,
            data,
            filename=file.filename,
            mapping=_mapping(mapping),
            defaults=_defaults(country),
            dry_run=dry_run,
        )
    except (FlatFileError, StatementFormatError) as error:
        raise problem(422, "file", str(error)) from error
    return ImportAnswer(**report.as_dict())


class BankLineOut(BaseModel):
    id: str
    booked_on: str
    amount: str
    currency: str
    description: str
    status: str
    invoice_number: str | None
    candidates: list[str]
    reason: str


class ConfirmIn(BaseModel):
    invoice_number: str


@router.get("/bank-lines", dependencies=[COLLECTORS], responses=ERRORS)
def bank_lines(
    context: Context,
    status: Literal["matched", "suggested", "unmatched", "confirmed", "dismissed"] | None = None,
) -> list[BankLineOut]:
    with unit_of_work(context.sessions) as session:
        return [
            BankLineOut(
                id=line.id,
                booked_on=line.booked_on.isoformat(),
                amount=str(line.amount_minor),
                currency=line.currency,
                description=line.description,
                status=line.status,
                invoice_number=line.invoice_number,
                candidates=list(line.candidates),
                reason=line.reason,
            )
            for line in BankLineRepository.from_session(session).list_lines(status=status)
        ]


@router.post(
    "/bank-lines/{line_id}/confirm",
    dependencies=[COLLECTORS],
    responses={**ERRORS, 404: {"model": Problem}},
)
async def confirm(line_id: str, body: ConfirmIn, context: Context) -> dict[str, str]:
    """A collector says which invoice a suggested or unmatched line pays."""
    try:
        payment_id = await apply_line(
            context.temporal, context.sessions, line_id, body.invoice_number, "confirmed"
        )
    except LookupError as error:
        raise problem(404, "line_id", str(error)) from error
    except InvalidRequest as error:
        raise problem(422, error.field, str(error)) from error
    return {"id": line_id, "status": "confirmed", "payment_id": payment_id}
