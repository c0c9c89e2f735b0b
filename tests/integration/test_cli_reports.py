"""``dunning report NAME`` in a real process over the hand-computed book of
tests/ledger/test_kpis.py: the table an operator reads, JSON, CSV, and the refusals."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ledger.db import create_ledger_engine, make_session_factory
from tests.integration.processes import cli, environment
from tests.ledger.test_kpis import build_book
from tests.ledger_support import sqlite_url
from tests.web.pages_support import seed

PERIOD = ["--from", "2026-09-01", "--to", "2026-11-30", "--currency", "CLP"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = sqlite_url(tmp_path)
    engine = create_ledger_engine(url)
    seed(make_session_factory(engine), build_book)
    engine.dispose()
    return environment(database_url=url)


def test_dso_prints_the_three_methods(env: dict[str, str], tmp_path: Path) -> None:
    shown = cli(["report", "dso", *PERIOD], env, tmp_path)

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    for method, days in (("simple", "95.6"), ("average", "83.0"), ("countback", "94.1")):
        assert any(method in line and days in line for line in lines), shown.stdout
    assert "formula: simple = closing AR ÷ credit sales × days" in shown.stdout

    as_json = cli(["report", "dso", *PERIOD, "--json"], env, tmp_path)
    assert json.loads(as_json.stdout)["rows"][1] == ["average", "83.0", "18.2", "64.8"]


def test_aging_by_customer_as_csv(env: dict[str, str], tmp_path: Path) -> None:
    shown = cli(["report", "aging", *PERIOD, "--by", "customer", "--csv"], env, tmp_path)

    assert shown.returncode == 0, shown.stderr
    rows = list(csv.reader(io.StringIO(shown.stdout)))
    assert rows[0] == [
        "customer",
        "current",
        "1-30",
        "31-60",
        "61-90",
        "91-120",
        "120+",
        "total",
        "invoices",
    ]
    assert rows[1] == [
        "C-1 Comercial Los Andes SpA",
        "0",
        "800000",
        "0",
        "0",
        "400000",
        "500000",
        "1700000",
        "3",
    ]


def test_bad_input_names_the_option(env: dict[str, str], tmp_path: Path) -> None:
    cases = {
        ("report", "dsx", *PERIOD): "no report 'dsx'; the reports are dso, cei",
        ("report", "cei", "--from", "2026-02-30"): "--from: '2026-02-30' is not a date",
        (
            "report",
            "cei",
            "--from",
            "2026-12-01",
            "--to",
            "2026-11-30",
        ): "--from: 2026-12-01 is after",
        ("report", "aging", "--by", "region"): "--by: 'region' is not one of segment, customer",
        ("report", "cei", "--currency", "ZZZ"): "--currency: unknown currency 'ZZZ'",
        ("report", "channel-cost", "--price", "sms"): "--price: 'sms' is not CHANNEL=PRICE",
    }
    for args, message in cases.items():
        refused = cli(list(args), env, tmp_path)
        assert refused.returncode == 1, args
        assert message in " ".join(refused.stderr.split()), refused.stderr
