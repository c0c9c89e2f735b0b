"""The HTTP API in process (httpx over ASGI) on the time-skipping server with a real worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import create_key
from ledger.db import unit_of_work
from ledger.models import Invoice
from tests.workflows.harness import Harness, running_worker, terminate_when_idle


@dataclass
class ApiHarness:
    env: WorkflowEnvironment
    harness: Harness
    http: httpx.AsyncClient
    keys: dict[str, str]

    def as_role(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    async def post(self, path: str, json: object, role: str = "erp") -> httpx.Response:
        return await self.http.post(path, json=json, headers=self.as_role(role))

    async def get(self, path: str, role: str = "erp", **params: object) -> httpx.Response:
        return await self.http.get(path, params=params, headers=self.as_role(role))


def invoice_body(number: str, issued_on: str, due_on: str, **overrides: object) -> dict:
    body: dict = {
        "number": number,
        "customer": {
            "id": "C-42",
            "name": "Ferretería Los Andes SpA",
            "tax_id": "76.086.428-5",
            "email": "pagos@losandes.cl",
            "phone": "+56912345678",
            "whatsapp": "+56912345678",
            "country": "CL",
            "segment": "standard",
        },
        "amount": "1250000",
        "currency": "CLP",
        "issued_on": issued_on,
        "due_on": due_on,
    }
    body.update(overrides)
    return body


@asynccontextmanager
async def running_api(
    env: WorkflowEnvironment, tmp_path: Path, **settings: object
) -> AsyncIterator[ApiHarness]:
    """``settings``: overrides for the API's settings (webhook secrets, public URL)."""
    async with running_worker(env.client, tmp_path) as harness:
        keys = {
            role: create_key(harness.sessions, role=role, name=f"test {role}").key
            for role in ("erp", "collector", "ops", "admin")
        }
        app = create_app(harness.settings.model_copy(update=settings), harness.sessions, env.client)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            try:
                yield ApiHarness(env, harness, http, keys)
            finally:
                await _end_workflows(harness)


async def _end_workflows(harness: Harness) -> None:
    """Workflows the API started must not outlive the test (see harness._end_leftovers). Each
    is terminated only once idle: the time-skipping server never releases the time lock of a
    workflow task that was in flight when its workflow was terminated (every later
    ``env.sleep`` then times out), and an activity the worker abandons at shutdown holds it
    until its start-to-close timeout."""
    with unit_of_work(harness.sessions) as session:
        workflow_ids = list(session.scalars(select(Invoice.workflow_id)))
    for workflow_id in workflow_ids:
        handle = harness.client.get_workflow_handle(workflow_id)
        await terminate_when_idle(handle)
