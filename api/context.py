"""What every request needs — the ledger, the Temporal client, the settings — and who is calling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from api.auth import Caller, NotAuthenticated, authenticate, recently_verified
from config.settings import Settings
from ledger.group_commit import GroupCommit


@dataclass
class AppContext:
    settings: Settings
    sessions: sessionmaker[Session]
    client: Client | None = None
    ledger: GroupCommit = field(init=False)

    def __post_init__(self) -> None:
        self.ledger = GroupCommit(self.sessions)

    @property
    def temporal(self) -> Client:
        if self.client is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Temporal is not connected")
        return self.client


# Dependencies are coroutines: FastAPI runs a plain function on a worker thread, a hop (and a
# GIL hand-over) per dependency per request for what is a dictionary lookup.
async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


def require(*roles: str) -> Callable[[Request, AppContext], Awaitable[Caller]]:
    """A dependency admitting callers whose key has one of ``roles`` (admin always may)."""
    allowed = frozenset(roles) | {"admin"}

    async def check(request: Request, context: Context) -> Caller:
        presented = _presented_key(request)
        try:
            caller = recently_verified(presented)
            if caller is None:
                caller = await run_in_threadpool(authenticate, context.sessions, presented)
        except NotAuthenticated as error:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail={"field": "authorization", "message": str(error)},
                headers={"WWW-Authenticate": "Bearer"},
            ) from error
        if caller.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail={
                    "field": "authorization",
                    "message": f"role {caller.role!r} may not do this; it needs one of "
                    + ", ".join(sorted(allowed)),
                },
            )
        return caller

    return check


ERP = Depends(require("erp"))
READERS = Depends(require("erp", "collector", "ops"))
IMPORTERS = Depends(require("erp", "ops"))


def problem(status_code: int, field: str | None, message: str) -> HTTPException:
    return HTTPException(status_code, detail={"field": field, "message": message})
