"""``dunning api`` and ``dunning keys``: serve the HTTP API, and make the keys that call it."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from rich.table import Table

from api.app import create_app
from api.auth import ROLES, create_key, revoke_key
from cli.runtime import console, fail, print_json, runtime
from ledger.db import unit_of_work
from ledger.repositories.api_keys import ApiKeyRepository

keys = typer.Typer(help="API keys for the ERP, collectors, operations and admins.")


def serve_api(
    host: Annotated[str | None, typer.Option(help="Default: DUNNING_API_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: DUNNING_API_PORT.")] = None,
) -> None:
    """Serve the HTTP API (ERP endpoints, imports, webhooks) against settings' Temporal."""
    rt = runtime()
    app = create_app(rt.settings, rt.sessions)
    uvicorn.run(
        app,
        host=host or rt.settings.api_host,
        port=port or rt.settings.api_port,
        log_level="warning",
    )


@keys.command("create")
def create(
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    name: Annotated[str, typer.Option(help="Who holds it, e.g. 'SAP production'.")] = "",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Make a key. It is shown once: store it in the caller's secret store."""
    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    made = create_key(runtime().sessions, role=role, name=name or role)
    if as_json:
        print_json({"id": made.key_id, "role": made.role, "name": made.name, "key": made.key})
        return
    console.print(f"key {made.key_id} ({made.role}) for {made.name}:")
    console.print(made.key, highlight=False)
    console.print("[dim]Shown once; only its hash is kept.[/]")


@keys.command("list")
def list_keys() -> None:
    with unit_of_work(runtime().sessions) as session:
        rows = [
            (k.id, k.role, k.name, k.created_at.isoformat(), "revoked" if k.revoked_at else "")
            for k in ApiKeyRepository.from_session(session).list_keys()
        ]
    table = Table("id", "role", "name", "created", "status")
    for row in rows:
        table.add_row(*row)
    console.print(table)


@keys.command("revoke")
def revoke(key_id: str) -> None:
    revoke_key(runtime().sessions, key_id)
    console.print(f"key {key_id} revoked")
