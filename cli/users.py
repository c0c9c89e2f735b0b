"""``dunning users``: the people who sign in to the workspace pages."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from typing import Annotated

import segno
import typer
from rich.table import Table

from api.users import (
    LANGUAGES,
    MIN_PASSWORD_LENGTH,
    ROLES,
    InvalidUser,
    create_user,
    list_users,
    reset_second_factor,
    unlock,
)
from cli.runtime import console, fail, print_json, runtime
from ledger.repositories.base import RecordNotFound

app = typer.Typer(help="People who sign in to the workspace: collectors, operations, admins.")


@app.command("create")
def create(
    email: Annotated[str, typer.Option(help="The sign-in name.")],
    name: Annotated[str, typer.Option(help="As colleagues know them, e.g. 'Camila Rojas'.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    language: Annotated[str, typer.Option(help=f"One of: {', '.join(LANGUAGES)}.")] = "es",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Make a user. Prints the QR code to enrol their authenticator app; they can also enrol
    at their first sign-in."""
    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    if language not in LANGUAGES:
        fail(f"--language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    password = _password(from_stdin=password_stdin)
    try:
        made = create_user(
            runtime().sessions,
            email=email,
            name=name,
            role=role,
            password=password,
            language=language,
        )
    except InvalidUser as problem:
        fail(f"--{problem.field}: {str(problem).partition(': ')[2]}")
    console.print(
        f"user {made.id} ({made.role}) for {made.name} <{made.email}>",
        highlight=False,
        markup=False,
    )
    _show_enrolment(made.provisioning_uri)


@app.command("list")
def list_all(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    now = datetime.now(UTC)
    accounts = list_users(runtime().sessions)
    if as_json:
        print_json(
            [
                {
                    "id": account.id,
                    "name": account.name,
                    "email": account.email,
                    "role": account.role,
                    "language": account.language,
                    "second_factor_enrolled": account.second_factor_enrolled,
                    "locked_until": account.locked_until if account.locked_at(now) else None,
                    "disabled": account.disabled,
                }
                for account in accounts
            ]
        )
        return
    table = Table("id", "name", "email", "role", "second factor", "locked until", "status")
    for account in accounts:
        table.add_row(
            account.id,
            account.name,
            account.email,
            account.role,
            "enrolled" if account.second_factor_enrolled else "pending",
            account.locked_until.isoformat(timespec="minutes")
            if account.locked_until and account.locked_at(now)
            else "",
            "disabled" if account.disabled else "active",
        )
    console.print(table)


@app.command("unlock")
def unlock_user(user_id: str) -> None:
    """Let a locked-out user try again at once."""
    try:
        unlock(runtime().sessions, user_id)
    except RecordNotFound:
        fail(f"no user with id {user_id!r} (see `dunning users list`)")
    console.print(f"user {user_id} unlocked")


@app.command("reset-2fa")
def reset_2fa(user_id: str) -> None:
    """A new authenticator secret: the old app stops working; enrol the new one."""
    try:
        enrolment = reset_second_factor(runtime().sessions, user_id)
    except RecordNotFound:
        fail(f"no user with id {user_id!r} (see `dunning users list`)")
    console.print(f"user {user_id}: second factor reset")
    _show_enrolment(enrolment.provisioning_uri)


def _password(*, from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(
            f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
            hide_input=True,
            confirmation_prompt=True,
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        fail(f"--password: needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


def _show_enrolment(uri: str) -> None:
    qr = io.StringIO()
    segno.make(uri, error="m").terminal(out=qr, compact=True)
    console.print("Scan this QR code with the user's authenticator app:")
    sys.stdout.write(qr.getvalue())
    console.print(uri, highlight=False, markup=False)
    console.print(
        "[dim]Or let them enrol at their first sign-in at /app/sign-in. "
        "Shown once; keep it out of chats and tickets.[/]"
    )
