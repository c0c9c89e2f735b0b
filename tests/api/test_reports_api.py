"""``GET /v1/reports/{name}`` over the hand-computed book of tests/ledger/test_kpis.py, in
process over a SQLite ledger (the reports need no Temporal)."""

from __future__ import annotations

from pathlib import Path

from api.auth import create_key
from tests.ledger.test_kpis import build_book
from tests.web.pages_support import pages_over_ledger, seed

PERIOD = {"from": "2026-09-01", "to": "2026-11-30", "currency": "CLP"}


async def test_the_dso_and_recovery_reports_carry_figure_formula_and_inputs(
    tmp_path: Path,
) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        seed(pages.sessions, build_book)
        ops = {"Authorization": f"Bearer {create_key(pages.sessions, role='ops', name='t').key}"}

        dso = await pages.http.get("/v1/reports/dso", params=PERIOD, headers=ops)
        recovery = await pages.http.get(
            "/v1/reports/recovery", params={**PERIOD, "contact_days": 6}, headers=ops
        )
        aging = await pages.http.get(
            "/v1/reports/aging", params={**PERIOD, "by": "segment"}, headers=ops
        )

    assert dso.status_code == 200, dso.text
    body = dso.json()
    assert (body["name"], body["figure"], body["unit"]) == ("dso", "95.6", "days")
    assert body["rows"][2] == ["countback", "94.1", "18.2", "75.9"]
    assert body["inputs"]["credit_sales"] == "2000000"
    assert body["formula"].startswith("simple = closing AR ÷ credit sales × days")
    assert recovery.status_code == 200, recovery.text
    assert recovery.json()["contact_days"] == 6
    assert ["channel", "none", 2, "800000", "53.3", "21.6"] in recovery.json()["rows"]
    assert [row[0] for row in aging.json()["rows"]] == ["smb", "enterprise"]


async def test_unknown_names_bad_dates_and_other_roles_are_refused(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        keys = {
            role: {
                "Authorization": f"Bearer {create_key(pages.sessions, role=role, name=role).key}"
            }
            for role in ("ops", "collector", "admin")
        }

        unknown = await pages.http.get("/v1/reports/dsx", params=PERIOD, headers=keys["ops"])
        bad_date = await pages.http.get(
            "/v1/reports/cei", params={**PERIOD, "from": "2026-13-01"}, headers=keys["ops"]
        )
        backwards = await pages.http.get(
            "/v1/reports/cei", params={**PERIOD, "from": "2026-12-01"}, headers=keys["admin"]
        )
        bad_by = await pages.http.get(
            "/v1/reports/aging", params={**PERIOD, "by": "region"}, headers=keys["ops"]
        )
        collector = await pages.http.get(
            "/v1/reports/cei", params=PERIOD, headers=keys["collector"]
        )

    assert unknown.status_code == 404
    assert unknown.json()["detail"]["field"] == "name"
    assert "dso, cei, aging, promise-kept" in unknown.json()["detail"]["message"]
    assert bad_date.status_code == 422
    assert bad_date.json()["detail"]["field"] == "query.from"
    assert backwards.status_code == 422
    assert backwards.json()["detail"]["field"] == "from"
    assert bad_by.status_code == 422 and bad_by.json()["detail"]["field"] == "query.by"
    assert collector.status_code == 403
