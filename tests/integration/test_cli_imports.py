"""``dunning import invoices|payments`` and ``dunning keys`` from the command line, against a
real dev server and a worker."""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.settings import Settings
from ledger.db import create_ledger_engine, make_session_factory, unit_of_work
from ledger.models import ApiKey
from tests.integration.processes import cli, environment, eventually
from tests.ledger_support import sqlite_url
from worker import build_worker

pytestmark = pytest.mark.slow


def invoice_file(path: Path, prefix: str, issued: str, due: str) -> Path:
    path.write_bytes(
        (
            "Folio;RUT;Razón Social;Monto Total;Moneda;Fecha Emisión;Fecha Vencimiento;Correo\r\n"
            f"{prefix}1;76.086.428-5;Ferretería Ñuñoa SpA;1.250.000;CLP;{issued};{due};"
            "pagos@nunoa.cl\r\n"
            f"{prefix}2;76.086.428-4;Panadería La Espiga;300.000;CLP;{issued};{due};"
            "pagos@espiga.cl\r\n"
            f"{prefix}3;76.086.428-5;Ferretería Ñuñoa SpA;300.000;CLP;{issued};{due};"
            "pagos@nunoa.cl\r\n"
            ";;;;;;;\r\n"
            "Totales;;;1.850.000;;;;\r\n"
        ).encode("cp1252")
    )
    return path


async def test_files_are_imported_from_the_command_line_and_keys_are_made(dev_server, tmp_path):
    url = sqlite_url(tmp_path)
    queue = f"cli-import-{uuid.uuid4().hex[:8]}"
    env = environment(
        temporal_address=dev_server.client.service_client.config.target_host,
        database_url=url,
        task_queue=queue,
    )
    prefix = f"I{uuid.uuid4().hex[:5]}-"
    today = datetime.now(ZoneInfo("America/Santiago")).date()
    issued, due = today.strftime("%d-%m-%Y"), (today + timedelta(days=20)).strftime("%d/%m/%Y")
    invoices = invoice_file(tmp_path / "ventas.csv", prefix, issued, due)

    async def run(*args: str, code: int = 0) -> str:
        result = await asyncio.to_thread(cli, list(args), env, tmp_path)
        assert result.returncode == code, result.stdout + result.stderr
        return result.stdout

    settings = Settings(task_queue=queue, database_url=url, activity_threads=4)
    sessions = make_session_factory(create_ledger_engine(url))
    with ThreadPoolExecutor(4) as pool:
        async with build_worker(dev_server.client, settings, sessions, executor=pool):
            dry = json.loads(
                await run("import", "invoices", str(invoices), "--dry-run", "--json", code=2)
            )
            assert dry["counts"] == {"imported": 2, "unchanged": 0, "rejected": 1}
            assert dry["rejected"][0]["line"] == 3 and dry["rejected"][0]["column"] == "RUT"
            assert any("Totales" in note["message"] for note in dry["notes"])

            shown = await run("import", "invoices", str(invoices), code=2)
            assert "imported 2, unchanged 0, rejected 1" in shown
            assert "line 3, RUT = '76.086.428-4'" in shown
            again = json.loads(await run("import", "invoices", str(invoices), "--json", code=2))
            assert again["counts"] == {"imported": 0, "unchanged": 2, "rejected": 1}

            payments = tmp_path / "pagos.csv"
            payments.write_text(
                "Folio;Monto;Moneda;Fecha Pago;Referencia\n"
                f"{prefix}1;1.250.000;CLP;{issued};OP-1\n",
                encoding="utf-8",
            )
            paid = json.loads(await run("import", "payments", str(payments), "--json"))
            assert paid["counts"] == {"imported": 1, "unchanged": 0, "rejected": 0}

            async def closed() -> bool:
                status = json.loads(await run("status", f"{prefix}1", "--json"))
                return status["stage"] == "paid"

            await eventually(closed, timeout=30, what="the invoice paid by the file")

    made = json.loads(await run("keys", "create", "--role", "erp", "--name", "SAP", "--json"))
    assert made["key"].startswith(f"dk_{made['id']}_") and made["role"] == "erp"
    with unit_of_work(sessions) as session:
        stored = session.get(ApiKey, made["id"])
        assert stored is not None and made["key"].split("_", 2)[2] not in stored.secret_sha256
    await run("keys", "create", "--role", "boss", code=1)
    await run("keys", "revoke", made["id"])
    assert "revoked" in await run("keys", "list")
