"""``dunning audit verify``, ``dunning dossier`` and ``dunning purge`` in a real process."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ledger.db import create_ledger_engine, make_session_factory
from tests.integration.processes import cli, environment
from tests.ledger.test_dossier import make_collected_invoice
from tests.ledger.test_retention import _old_book
from tests.ledger_support import sqlite_url
from tests.web.pages_support import seed


def _book(session: Session) -> None:
    _old_book(session)
    make_collected_invoice(session, "F-1001")


@pytest.fixture
def ledger(tmp_path: Path) -> tuple[dict[str, str], Path]:
    url = sqlite_url(tmp_path)
    engine = create_ledger_engine(url)
    seed(make_session_factory(engine), _book)
    engine.dispose()
    return environment(database_url=url), tmp_path / "ledger.db"


def test_verify_passes_then_names_a_tampered_line(
    ledger: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, database = ledger
    shown = cli(["audit", "verify"], env, tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "intact" in shown.stdout

    # Edit the file behind the application's back, the way an insider with the file would.
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TRIGGER interactions_no_update")
        connection.execute("UPDATE interactions SET status = 'sent' WHERE event_key = 'old-2'")

    broken = cli(["audit", "verify", "--json"], env, tmp_path)
    assert broken.returncode == 1
    report = json.loads(broken.stdout)
    assert report["intact"] is False
    assert [(line["event_key"], line["problem"]) for line in report["broken"]] == [
        ("old-2", "content changed")
    ]
    assert cli(["audit", "verify", "--customer", "C-2"], env, tmp_path).returncode == 0


def test_dossier_as_json_and_as_pdf(ledger: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, _ = ledger
    shown = cli(["dossier", "F-1001", "--json"], env, tmp_path)
    assert shown.returncode == 0, shown.stderr
    dossier = json.loads(shown.stdout)
    assert dossier["invoice"]["number"] == "F-1001"
    assert [entry["source"] for entry in dossier["timeline"]][:2] == ["outbox", "bitacora"]
    assert dossier["chain"]["intact"] is True

    target = tmp_path / "evidence.pdf"
    printed = cli(
        ["dossier", "F-1001", "--pdf", "--out", str(target), "--language", "en"], env, tmp_path
    )
    assert printed.returncode == 0, printed.stderr
    assert target.read_bytes().startswith(b"%PDF-")

    missing = cli(["dossier", "F-404"], env, tmp_path)
    assert missing.returncode == 1 and "F-404" in missing.stderr


def test_purge_refuses_young_records_then_purges_old_ones(
    ledger: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, _ = ledger
    refused = cli(["purge", "--before", "2024-01-01"], env, tmp_path)
    assert refused.returncode == 1
    assert "purge refused" in refused.stderr and "10 years" in refused.stderr

    dry = cli(["purge", "--before", "2016-01-01", "--dry-run", "--json"], env, tmp_path)
    assert dry.returncode == 0, dry.stderr
    counted = json.loads(dry.stdout)
    assert counted["invoices"] == 1 and counted["removed"]["interactions"] == 2

    done = cli(["purge", "--before", "2016-01-01"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "interactions: removed 2" in done.stdout
    again = json.loads(
        cli(["purge", "--before", "2016-01-01", "--dry-run", "--json"], env, tmp_path).stdout
    )
    assert again["removed"]["interactions"] == 0
    assert cli(["audit", "verify"], env, tmp_path).returncode == 0
