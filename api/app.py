"""The HTTP API: ERP endpoints, imports and provider webhooks, served by ``dunning api`` and
``dunning dev``. OpenAPI at /openapi.json, interactive docs at /docs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client

from api.context import AppContext
from api.portal import pages as portal_pages
from api.routes import (
    agreements,
    codec,
    customers,
    imports,
    invoices,
    payments,
    reports,
    webhooks,
)
from api.temporal import connect
from api.web import auth_pages, case_forms, customer_page, dashboard, inbox, policy_pages
from api.web.frame import install_pages
from config.settings import Settings


def create_app(
    settings: Settings, sessions: sessionmaker[Session], client: Client | None = None
) -> FastAPI:
    """``client`` given: use it (tests, ``dunning dev``); absent: connect at startup."""
    context = AppContext(settings=settings, sessions=sessions, client=client)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if context.client is None:
            context.client = await connect(settings)
        yield

    app = FastAPI(
        title="Dunning API",
        version="1",
        description="Issue invoices, report payments and credit notes, import flat files and "
        "bank statements, and receive provider webhooks. Authenticate with an API key: "
        "`Authorization: Bearer <key>` (make one with `dunning keys create --role erp`).",
        lifespan=lifespan,
    )
    app.state.context = context
    app.include_router(invoices.router)
    app.include_router(agreements.router)
    app.include_router(payments.router)
    app.include_router(customers.router)
    app.include_router(imports.router)
    app.include_router(webhooks.router)
    app.include_router(reports.router)
    app.include_router(codec.router)
    install_pages(app)
    for pages in (
        auth_pages,
        inbox,
        customer_page,
        case_forms,
        dashboard,
        policy_pages,
        portal_pages,
    ):
        app.include_router(pages.router)

    @app.exception_handler(RequestValidationError)
    async def _validation_problem(_: Request, error: RequestValidationError) -> JSONResponse:
        # One message per bad field, naming it the way the caller wrote it (body.amount …).
        problems: list[dict[str, Any]] = [
            {
                "field": ".".join(str(part) for part in e["loc"] if part != "body"),
                "message": e["msg"],
            }
            for e in error.errors()
        ]
        first = problems[0] if problems else {"field": None, "message": "invalid request"}
        return JSONResponse(status_code=422, content={"detail": {**first, "errors": problems}})

    @app.exception_handler(StarletteHTTPException)
    async def _http_problem(_: Request, error: StarletteHTTPException) -> JSONResponse:
        detail: Any = error.detail
        if not isinstance(detail, dict):
            detail = {"field": None, "message": str(detail)}
        return JSONResponse(
            status_code=error.status_code, content={"detail": detail}, headers=error.headers
        )

    @app.get("/healthz", tags=["operations"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
