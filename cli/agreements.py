"""Promises and payment plans on the command line: the same services as the HTTP API."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from api import agreements
from api.errors import InvalidRequest
from cli.runtime import console, fail, print_json, run, runtime
from ledger.repositories.plans import PlanConflict
from workflows.messages import NextAction

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Source = Annotated[str, typer.Option(help="portal, debtor_reply or collector.")]


def parse_instalment(raw: str) -> tuple[date, str]:
    """``2026-12-01=100000`` → (due date, amount)."""
    due, separator, amount = raw.partition("=")
    try:
        if not separator or not amount.strip():
            raise ValueError(raw)
        return date.fromisoformat(due.strip()), amount.strip()
    except ValueError:
        fail(f"instalment: {raw!r} is not DUE=AMOUNT, e.g. 2026-12-01=100000")


def _said(upcoming: NextAction) -> str:
    when = upcoming.at.isoformat(timespec="minutes") if upcoming.at else "-"
    return f"next: {upcoming.action} at {when}"


def promise(
    invoice: str,
    promised: Annotated[str, typer.Option("--date", help="Promised date, YYYY-MM-DD.")],
    amount: Annotated[str | None, typer.Option(help="Default: all that is due.")] = None,
    source: Source = "collector",
    note: Annotated[str | None, typer.Option(help="What the debtor said.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a promise to pay: contact pauses until the date (plus grace days)."""
    rt = runtime()
    try:
        promised_date = date.fromisoformat(promised)
    except ValueError:
        fail(f"date: {promised!r} is not a date (YYYY-MM-DD)")

    async def go() -> None:
        try:
            upcoming = await agreements.make_promise(
                await rt.client(),
                rt.sessions,
                invoice,
                promised_date=promised_date,
                raw_amount=amount,
                source=source,
                note=note,
            )
        except (InvalidRequest, LookupError, agreements.WorkflowUnavailable) as error:
            fail(str(error))
        if as_json:
            print_json(upcoming.model_dump(mode="json"))
            return
        console.print(f"{invoice}: promise to pay by {promised_date}; {_said(upcoming)}")

    run(go)


def plan(
    invoice: str,
    instalment: Annotated[
        list[str], typer.Option(help="DUE=AMOUNT, once per instalment, in order.")
    ],
    source: Source = "collector",
    as_json: JsonFlag = False,
) -> None:
    """Agree a payment plan: the balance split into instalments, each reminded on its own."""
    rt = runtime()
    terms = [parse_instalment(raw) for raw in instalment]

    async def go() -> None:
        try:
            agreed = await agreements.agree_payment_plan(
                await rt.client(), rt.sessions, invoice, terms, source=source
            )
        except (
            InvalidRequest,
            LookupError,
            PlanConflict,
            agreements.WorkflowUnavailable,
        ) as error:
            fail(str(error))
        if as_json:
            print_json(
                {
                    "number": agreed.number,
                    "plan_id": agreed.plan_id,
                    "instalments": [i.model_dump(mode="json") for i in agreed.instalments],
                    "next_action": agreed.next_action.model_dump(mode="json"),
                }
            )
            return
        console.print(
            f"{invoice}: {agreed.plan_id} agreed, {len(agreed.instalments)} instalments; "
            + _said(agreed.next_action)
        )

    run(go)
