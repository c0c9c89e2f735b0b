"""The collectors' inbox: ranked by amount due × days past due × risk, filtered, claimed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from ledger.db import unit_of_work
from ledger.models import Task
from ledger.repositories.inbox import priority_of, risk_weight
from ledger.repositories.promises import PromiseRepository
from tests.web.pages_support import open_task, pages_over_ledger, seed
from tests.web.sessions import csrf_for, sign_in_as, test_user

NOW = datetime.now(UTC)


def _book(session: Session) -> None:
    # priority = amount × days × risk
    open_task(
        session, "F-SMALL", customer_id="C-A", amount_minor=100_000, days_past_due=10, now=NOW
    )
    open_task(session, "F-BIG", customer_id="C-B", amount_minor=900_000, days_past_due=20, now=NOW)
    open_task(
        session,
        "F-RISKY",
        customer_id="C-C",
        amount_minor=500_000,
        days_past_due=20,
        now=NOW,
        segment="high_risk",
        sla_hours=-3,
    )
    PromiseRepository.from_session(session).record_if_absent(
        id="P-1",
        invoice_number="F-RISKY",
        customer_id="C-C",
        kind="promise",
        source="collector",
        promised_date=NOW.date(),
        amount_minor=500_000,
        currency="CLP",
        made_at=NOW,
    )
    session.flush()
    assert PromiseRepository.from_session(session).settle_latest_promise(
        "F-RISKY", kept=False, at=NOW
    )


def test_risk_and_priority_formula() -> None:
    assert risk_weight("smb", 0) == 1
    assert risk_weight("high_risk", 0) == 2
    assert risk_weight("smb", 1) == Decimal("1.5")
    assert risk_weight("high_risk", 9) == 4  # at most 4 broken promises count
    assert priority_of(Decimal(100), 0, Decimal(1)) == 100  # due today counts as one day
    assert priority_of(Decimal(100), 10, Decimal(2)) == 2000


def _order(html: str) -> list[str]:
    return re.findall(r'data-task="T-([A-Z-]+)-collector_call-1"', html)


async def test_tasks_are_ranked_by_amount_days_and_risk(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        seed(pages.sessions, _book)
        sign_in_as(pages.http, pages.settings, test_user("collector"), pages.sessions)
        response = await pages.http.get("/app/inbox")
        assert response.status_code == 200, response.text
        # BIG: 900,000 × 20 × 1 = 18M; RISKY: 500,000 × 20 × (2 + 0.5 broken) = 25M;
        # SMALL: 100,000 × 10 × 1 = 1M.
        assert _order(response.text) == ["F-RISKY", "F-BIG", "F-SMALL"]
        assert "3 tareas abiertas · 1 fuera de plazo" in response.text
        assert 'lang="es"' in response.text


async def test_filters_by_segment_and_owner_and_claim(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        seed(pages.sessions, _book)
        collector = test_user("collector")
        sign_in_as(pages.http, pages.settings, collector, pages.sessions)
        risky = await pages.http.get("/app/inbox", params={"segment": "high_risk"})
        assert _order(risky.text) == ["F-RISKY"]

        token = await csrf_for(pages.http, "/app/inbox")
        claimed = await pages.http.post(
            "/app/tasks/T-F-BIG-collector_call-1/claim",
            data={"csrf_token": token, "back": "/app/inbox?owner=me"},
        )
        assert claimed.status_code == 303
        assert claimed.headers["location"] == "/app/inbox?owner=me"
        mine = await pages.http.get("/app/inbox", params={"owner": "me"})
        assert _order(mine.text) == ["F-BIG"]
        unassigned = await pages.http.get("/app/inbox", params={"owner": "unassigned"})
        assert _order(unassigned.text) == ["F-RISKY", "F-SMALL"]
        with unit_of_work(pages.sessions) as session:
            task = session.get(Task, "T-F-BIG-collector_call-1")
            assert task is not None and task.assignee == collector.id


async def test_claim_without_csrf_token_is_refused(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        seed(pages.sessions, _book)
        sign_in_as(pages.http, pages.settings, test_user("collector"), pages.sessions)
        await pages.http.get("/app/inbox")
        refused = await pages.http.post("/app/tasks/T-F-BIG-collector_call-1/claim", data={})
        assert refused.status_code == 403
        with unit_of_work(pages.sessions) as session:
            task = session.get(Task, "T-F-BIG-collector_call-1")
            assert task is not None and task.assignee is None


async def test_top_task_opens_the_customer_page_on_that_task(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        seed(pages.sessions, _book)
        sign_in_as(pages.http, pages.settings, test_user("collector"), pages.sessions)
        top = await pages.http.get("/app/inbox/top")
        assert top.headers["location"] == "/app/tasks/T-F-RISKY-collector_call-1"
        task = await pages.http.get(top.headers["location"])
        assert task.headers["location"] == (
            "/app/customers/C-C?task=T-F-RISKY-collector_call-1&invoice=F-RISKY"
        )
        page = await pages.http.get(task.headers["location"])
        assert page.status_code == 200, page.text
        assert "Gestionar F-RISKY" in page.text
        assert 'action="/app/invoices/F-RISKY/actions/promise"' in page.text


async def test_signed_out_goes_to_sign_in_and_english_on_request(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        seed(pages.sessions, _book)
        away = await pages.http.get("/app/inbox")
        assert away.status_code == 303
        assert away.headers["location"] == "/app/sign-in?next=/app/inbox"
        sign_in_as(pages.http, pages.settings, test_user("collector"), pages.sessions)
        pages.http.cookies.set("dunning_lang", "en")
        english = await pages.http.get("/app/inbox")
        assert "Task inbox" in english.text and 'lang="en"' in english.text
