"""The policy view: every step drawn at its offset, and a preview for a due date and country
that is the CLI's preview (the same pure engine)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from api.web.policy_pages import timeline_marks
from dunning_policies.jurisdictions import DebtType
from dunning_policies.preview import plan, preview_state
from dunning_policies.registry import get_policy
from tests.web.pages_support import pages_over_ledger
from tests.web.sessions import sign_in_as, test_user


def test_marks_follow_the_offsets_and_the_handoff_comes_last() -> None:
    marks, first, last = timeline_marks(get_policy("standard"))
    assert [(m.step_id, m.day) for m in marks][:5] == [
        (step.id, step.offset_days)
        for step in get_policy("standard").steps[:5]  # type: ignore[union-attr]
    ]
    assert marks[-1].kind == "handoff" and marks[-1].day == last
    assert first == -3
    assert [m.x for m in marks] == sorted(m.x for m in marks)


async def test_policy_page_previews_the_engine_plan(tmp_path: Path) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        sign_in_as(pages.http, pages.settings, test_user("collector"), pages.sessions)
        listing = await pages.http.get("/app/policies")
        assert listing.status_code == 200
        assert 'href="/app/policies/standard"' in listing.text
        page = await pages.http.get(
            "/app/policies/standard", params={"due": "2027-03-16", "country": "MX"}
        )
        assert page.status_code == 200, page.text
        expected = plan(
            get_policy("standard"),
            preview_state(
                date(2027, 3, 16),
                timezone="America/Mexico_City",
                country="MX",
                locale="es_MX",
                currency="MXN",
                debt_type=DebtType.BUSINESS,
            ),
        )
        rows = re.findall(r'data-label="Paso">([^<]+)</td>', page.text)
        assert rows == [step.step_id for step in expected]
        assert "<svg" in page.text and 'role="img"' in page.text
        bad = await pages.http.get("/app/policies/standard", params={"due": "mañana"})
        assert "mañana no es una fecha." in bad.text
        missing = await pages.http.get("/app/policies/nope")
        assert missing.status_code == 404
