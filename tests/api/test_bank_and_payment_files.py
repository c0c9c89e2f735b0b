"""Bank statements and payment files through the API: matched lines pay their invoice, suggested
ones wait for a collector, unmatched ones are kept; re-importing changes nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.api.support import invoice_body, running_api
from tests.api.test_erp_api import dates, eventually, stage_is


def cartola(booked: str) -> bytes:
    return (
        "Banco de Chile\r\n"
        "Cuenta: 00-123-45678-09\r\n"
        "Fecha;Descripción;N° Documento;Cargos;Abonos;Saldo;RUT Origen;Nombre Origen\r\n"
        f"{booked};Transf. Ferretería FAC B-11;884422;;1.250.000;;76.086.428-5;Los Andes\r\n"
        f"{booked};Transf. Los Andes;884423;;300.000;;76.086.428-5;Los Andes\r\n"
        f"{booked};Depósito en efectivo;884424;;777.000;;;\r\n"
        f"{booked};Transferencia recibida;884425;;12.345;;;\r\n"
        f"{booked};Pago proveedor;884426;50.000;;;;\r\n"
        f"{booked};Saldo final;;;;9.999.999;;\r\n"
    ).encode("cp1252")


async def test_a_statement_pays_matched_invoices_and_a_collector_confirms_a_suggestion(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    today, due = await dates(time_skipping_env)
    async with running_api(time_skipping_env, tmp_path) as api:
        for number, amount in (("B-11", "1250000"), ("B-12", "300000"), ("B-13", "777000")):
            body = invoice_body(number, today.isoformat(), due.isoformat(), amount=amount)
            assert (await api.post("/v1/invoices", body)).status_code == 201
        for number in ("B-11", "B-12", "B-13"):
            await eventually(
                api,
                lambda number=number: api.get(f"/v1/invoices/{number}"),
                lambda b: b["next_action_at"] is not None,
                "projection",
            )
        data = cartola(today.strftime("%d/%m/%Y"))
        files = {"file": ("cartola.csv", data, "text/csv")}

        dry = await api.http.post(
            "/v1/imports/payments",
            params={"source": "bank", "dry_run": "true"},
            files=files,
            headers=api.as_role("ops"),
        )
        assert dry.status_code == 200, dry.text
        assert dry.json()["counts"]["matched"] == 2

        report = (
            await api.http.post(
                "/v1/imports/payments",
                params={"source": "bank"},
                files=files,
                headers=api.as_role("erp"),
            )
        ).json()
        assert report["counts"] == {
            "matched": 2,
            "suggested": 1,
            "unmatched": 2,
            "rejected": 0,
            "already_imported": 0,
        }
        assert {m["invoice_number"]: m["rule"] for m in report["matched"]} == {
            "B-11": "invoice_number",
            "B-12": "tax_id_and_amount",
        }
        assert report["suggested"][0]["candidates"] == ["B-13"]
        reasons = sorted(u["reason"] for u in report["unmatched"])
        assert any("debit" in reason for reason in reasons)

        for number in ("B-11", "B-12"):
            await eventually(
                api,
                lambda number=number: api.get(f"/v1/invoices/{number}"),
                stage_is("paid"),
                number,
            )
        waiting = (await api.get("/v1/bank-lines", role="collector", status="suggested")).json()
        assert [line["candidates"] for line in waiting] == [["B-13"]]
        confirmed = await api.post(
            f"/v1/bank-lines/{waiting[0]['id']}/confirm", {"invoice_number": "B-13"}, "collector"
        )
        assert confirmed.status_code == 200, confirmed.text
        await eventually(api, lambda: api.get("/v1/invoices/B-13"), stage_is("paid"), "B-13")

        again = (
            await api.http.post(
                "/v1/imports/payments",
                params={"source": "bank"},
                files=files,
                headers=api.as_role("erp"),
            )
        ).json()
        assert again["counts"]["already_imported"] == 5


async def test_a_payment_file_pays_by_invoice_and_by_tax_id(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    today, due = await dates(time_skipping_env)
    async with running_api(time_skipping_env, tmp_path) as api:
        for number, days in (("P-21", 0), ("P-22", 7)):
            body = invoice_body(
                number,
                today.isoformat(),
                (due + timedelta(days=days)).isoformat(),
                amount="500000",
            )
            assert (await api.post("/v1/invoices", body)).status_code == 201
        paid_on = today.strftime("%d-%m-%Y")
        data = (
            "Folio;RUT;Monto;Moneda;Fecha Pago;Referencia\r\n"
            f"P-21;;200.000;CLP;{paid_on};OP-1\r\n"
            f";76.086.428-5;800.000;CLP;{paid_on};OP-2\r\n"
            f"P-99;;abc;CLP;{paid_on};OP-3\r\n"
        ).encode("cp1252")
        files = {"file": ("pagos.csv", data, "text/csv")}
        report = (
            await api.http.post("/v1/imports/payments", files=files, headers=api.as_role("erp"))
        ).json()
        assert report["counts"] == {"imported": 2, "unchanged": 0, "rejected": 1}
        assert report["rejected"][0]["line"] == 4 and report["rejected"][0]["column"] == "Monto"
        await eventually(api, lambda: api.get("/v1/invoices/P-21"), stage_is("paid"), "P-21")
        await eventually(
            api,
            lambda: api.get("/v1/invoices/P-22"),
            lambda b: b["amount_due"] == "0" or b["stage"] == "paid",
            "P-22",
        )
        again = (
            await api.http.post("/v1/imports/payments", files=files, headers=api.as_role("erp"))
        ).json()
        assert again["counts"] == {"imported": 0, "unchanged": 2, "rejected": 1}
