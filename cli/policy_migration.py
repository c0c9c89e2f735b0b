"""``dunning policies migrate``: move the running invoices of a policy to the version installed.

A workflow keeps the snapshot of the policy it started with; this is the explicit act that moves
it on. The candidates come from the ledger (open invoices of the policy on an older version);
each is told by the ``migrate_policy`` signal and swaps policies at its next step boundary. The
ledger row's version moves when the workflow records its ``policy_migrated`` event, so a second
run lists only the invoices that have not moved yet.
"""

from __future__ import annotations

import asyncio
import getpass
from dataclasses import asdict, dataclass
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from cli.runtime import console, fail, print_json, run, runtime
from dunning_policies.language import Policy
from dunning_policies.registry import UnknownPolicy, get_policy
from dunning_policies.state import CLOSED_STAGES
from ledger.db import unit_of_work
from ledger.repositories.invoices import InvoiceRepository
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import PolicyMigration

MIGRATED, WOULD_MIGRATE, NOT_RUNNING = "migrated", "would migrate", "not running"
CONCURRENCY = 16


@dataclass(frozen=True)
class MigrationLine:
    invoice: str
    workflow_id: str
    from_version: int
    to_version: int
    outcome: str
    """``migrated``, ``would migrate``, ``not running`` or ``failed: <reason>``."""

    @property
    def failed(self) -> bool:
        return self.outcome.startswith("failed")


async def migrate_running(
    client: Client,
    sessions: sessionmaker[Session],
    policy: Policy,
    *,
    dry_run: bool,
    requested_by: str,
) -> list[MigrationLine]:
    """Signal every open invoice of ``policy.name`` on an older version (or, with ``dry_run``,
    only say which would be); one line per invoice, oldest due date first."""
    with unit_of_work(sessions) as session:
        candidates = [
            (i.number, i.workflow_id, i.policy_version)
            for i in InvoiceRepository.from_session(session).on_policy_before(
                policy.name, policy.version, exclude_stages=tuple(CLOSED_STAGES)
            )
        ]
    migration = PolicyMigration(policy=policy, requested_by=requested_by)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(number: str, workflow_id: str, version: int) -> MigrationLine:
        async with gate:
            outcome = await _migrate_one(client, workflow_id, migration, dry_run)
        return MigrationLine(number, workflow_id, version, policy.version, outcome)

    return list(await asyncio.gather(*(one(*c) for c in candidates)))


async def _migrate_one(
    client: Client, workflow_id: str, migration: PolicyMigration, dry_run: bool
) -> str:
    handle = client.get_workflow_handle(workflow_id)
    try:
        described = await handle.describe()
        if described.status != WorkflowExecutionStatus.RUNNING:
            return NOT_RUNNING
        if dry_run:
            return WOULD_MIGRATE
        # Signals the latest run: a workflow that continued as new is still this invoice.
        await handle.signal(InvoiceDunningWorkflow.migrate_policy, migration)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return NOT_RUNNING
        return f"failed: {error.message}"
    return MIGRATED


def summary(lines: list[MigrationLine]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in lines:
        key = "failed" if line.failed else line.outcome
        counts[key] = counts.get(key, 0) + 1
    return counts


def migrate(
    policy_name: Annotated[str, typer.Option("--policy", help="Policy name, e.g. standard.")],
    to_version: Annotated[
        int, typer.Option(help="The version in the installed policy file (a safety check).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would move; signal nothing.")
    ] = False,
    requested_by: Annotated[
        str | None, typer.Option(help="Who asks, for the timeline (default: your user).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Move the running invoices of a policy to the version in its installed file."""
    try:
        policy = get_policy(policy_name)
    except UnknownPolicy as error:
        fail(str(error))
    if to_version != policy.version:
        fail(
            f"--to-version {to_version} is not the installed version: the policy file of "
            f"{policy.name} is v{policy.version}"
        )
    rt = runtime()
    who = requested_by or _user()

    async def go() -> None:
        client = await rt.client()
        lines = await migrate_running(
            client, rt.sessions, policy, dry_run=dry_run, requested_by=who
        )
        show(policy, lines, dry_run=dry_run, as_json=as_json)
        if any(line.failed for line in lines):
            raise typer.Exit(1)

    run(go)


def show(policy: Policy, lines: list[MigrationLine], *, dry_run: bool, as_json: bool) -> None:
    counts = summary(lines)
    if as_json:
        print_json(
            {
                "policy": policy.name,
                "to_version": policy.version,
                "dry_run": dry_run,
                "invoices": [asdict(line) for line in lines],
                "summary": counts,
            }
        )
        return
    table = Table("invoice", "workflow", "version", "outcome")
    for line in lines:
        style = "red" if line.failed else "green" if line.outcome == MIGRATED else ""
        table.add_row(
            line.invoice,
            line.workflow_id,
            f"v{line.from_version} → v{line.to_version}",
            f"[{style}]{line.outcome}[/]" if style else line.outcome,
        )
    if lines:
        console.print(table)
    counted = ", ".join(f"{n} {what}" for what, n in counts.items()) or "nothing to migrate"
    prefix = "dry run: " if dry_run else ""
    console.print(f"{prefix}{policy.name} → v{policy.version}: {counted}", highlight=False)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"
