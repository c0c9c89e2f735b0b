"""The collectors' side on the command line: list tasks, complete one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from api.collector_tasks import complete_task
from api.errors import InvalidRequest
from cli.agreements import parse_instalment
from cli.runtime import console, fail, print_json, run, runtime
from dunning_policies.state import Instalment, TaskOutcome
from dunning_policies.transitions import TaskCompletion
from ledger.db import unit_of_work
from ledger.repositories.tasks import TaskRepository

app = typer.Typer(help="Negotiation tasks for collectors.", no_args_is_help=True)


def list_tasks(
    open_only: Annotated[bool, typer.Option("--open", help="Only open tasks.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Negotiation tasks, oldest first."""
    rt = runtime()
    with unit_of_work(rt.sessions) as session:
        rows: list[dict[str, str]] = [
            {
                "id": t.id,
                "invoice": t.invoice_number,
                "customer": t.customer_id,
                "queue": t.queue,
                "status": t.status,
                "created_at": t.created_at.isoformat(),
                "sla_due_at": t.sla_due_at.isoformat(),
                "outcome": t.outcome or "",
            }
            for t in TaskRepository.from_session(session).list_tasks(open_only=open_only)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("task", "invoice", "customer", "queue", "status", "SLA due (UTC)", "outcome")
    for row in rows:
        table.add_row(
            row["id"],
            row["invoice"],
            row["customer"],
            row["queue"],
            row["status"],
            row["sla_due_at"][:16],
            row["outcome"] or "",
        )
    console.print(table)


@app.command("complete")
def complete(
    task_id: str,
    outcome: Annotated[TaskOutcome, typer.Option(help="What the conversation gave.")],
    promised_date: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD, for promise_to_pay.")
    ] = None,
    amount: Annotated[
        str | None, typer.Option(help="Promised amount; default all that is due.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="What the debtor said.")] = None,
    instalment: Annotated[
        list[str] | None,
        typer.Option(help="For payment_plan: DUE=AMOUNT, once per instalment, in order."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Record a task's outcome: promise_to_pay, paid, dispute, no_contact, refused or
    payment_plan."""
    rt = runtime()
    terms = [parse_instalment(raw) for raw in instalment or ()]
    try:
        completion = TaskCompletion(
            task_id=task_id,
            outcome=outcome,
            promised_date=date.fromisoformat(promised_date) if promised_date else None,
            amount=Decimal(amount) if amount else None,
            note=note,
            instalments=tuple(
                Instalment(number=n, due_on=due_on, amount=Decimal(raw_amount))
                for n, (due_on, raw_amount) in enumerate(terms, start=1)
            )
            or None,
        )
    except (ValueError, ArithmeticError, ValidationError) as error:
        fail(str(error))

    async def go() -> None:
        client = await rt.client()
        try:
            upcoming = await complete_task(client, rt.sessions, completion)
        except InvalidRequest as error:
            fail(str(error))
        if as_json:
            print_json(upcoming.model_dump(mode="json"))
            return
        when = upcoming.at.isoformat(timespec="minutes") if upcoming.at else "-"
        console.print(f"Task {task_id}: {outcome.value}. Next: {upcoming.action} at {when}")

    run(go)
