"""schemathesis against /openapi.json: no 5xx and no response that breaks the schema.

The API runs under uvicorn in its own thread and connects to the real dev server (workflows it
starts there need no worker: every answer comes from the ledger or from Temporal's start and
signal calls). schemathesis runs as its command line, with an admin key.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import create_key
from api.webhooks.testing import sendgrid_test_keypair
from config.settings import Settings
from ledger.db import create_ledger_engine, make_session_factory
from tests.integration.processes import free_port
from tests.ledger_support import sqlite_url

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)


@pytest.mark.slow
async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    dev_server: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        temporal_address=dev_server.client.service_client.config.target_host,
        task_queue="fuzz",
        # Configured, so the webhooks answer for real (403 to unsigned fuzz), not 503.
        twilio_auth_token=SecretStr("fuzz-token"),
        sendgrid_webhook_public_key=sendgrid_test_keypair()[1],
        payment_webhook_secrets=SecretStr("fuzz-secret"),
    )
    sessions = make_session_factory(create_ledger_engine(sqlite_url(tmp_path)))
    key = create_key(sessions, role="admin", name="fuzz").key
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, sessions), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
        st = shutil.which("st", path=str(Path(__file__).parents[2] / ".venv" / "bin")) or "st"
        result = await asyncio.to_thread(
            subprocess.run,
            [
                st,
                "run",
                f"http://127.0.0.1:{port}/openapi.json",
                "--checks",
                CHECKS,
                "--header",
                f"Authorization: Bearer {key}",
                "--max-examples",
                "25",
                "--seed",
                "20261123",
                "--phases",
                "examples,coverage,fuzzing",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
