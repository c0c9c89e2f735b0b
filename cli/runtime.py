"""What every command needs: settings, logging, a migrated ledger, a Temporal client."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from api.temporal import connect
from config.logging import configure_logging
from config.settings import Settings, get_settings
from ledger.db import create_ledger_engine, make_session_factory, upgrade_to_head

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@dataclass
class Runtime:
    settings: Settings

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        upgrade_to_head(self.settings.ledger_url)
        return make_session_factory(create_ledger_engine(self.settings.ledger_url))

    async def client(self) -> Client:
        try:
            return await connect(self.settings)
        except RuntimeError as error:
            fail(
                f"cannot reach Temporal at {self.settings.temporal_address} ({error}). "
                "Is `dunning dev` running?"
            )


def runtime() -> Runtime:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return Runtime(settings)


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def run(coroutine_factory: Callable[[], Coroutine[Any, Any, None]]) -> NoReturn:
    """Run a command's coroutine, then end the process with its exit code.

    Leaving through ``os._exit`` once output is flushed is deliberate: after a correct run the
    Temporal core runtime can abort the interpreter at exit (sdk-python #300, exit 134).
    """
    import asyncio

    code = 0
    try:
        asyncio.run(coroutine_factory())
    except RPCError as error:
        errors.print(f"[bold red]error:[/] Temporal said: {error.message}", highlight=False)
        code = 1
    except typer.Exit as stop:
        code = stop.exit_code
    leave(code)


def leave(code: int) -> NoReturn:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
