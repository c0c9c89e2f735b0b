from __future__ import annotations

import json

from typer.testing import CliRunner

from dunning_policies.checks import check_policy
from dunning_policies.language import Channel, Handoff, Negotiate, Policy, Remind, Tone
from dunning_policies.registry import all_policies
from starter import app

runner = CliRunner()


def test_every_bundled_policy_passes_its_checks():
    result = runner.invoke(app, ["policies", "check", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"high_risk": [], "preferred": [], "standard": []}
    assert set(all_policies()) == {"standard", "preferred", "high_risk"}


def test_preview_lists_the_planned_timeline_in_the_customers_time_zone():
    result = runner.invoke(
        app,
        [
            "policies",
            "preview",
            "standard",
            "--due",
            "2026-12-01",
            "--country",
            "CL",
            "--timezone",
            "America/Santiago",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    steps = json.loads(result.output)
    assert [(s["at"], s["kind"], s["channel"], s["template"], s["tone"]) for s in steps] == [
        ("2026-11-28T10:00:00-03:00", "remind", "email", "before_due", "friendly"),
        ("2026-12-01T10:00:00-03:00", "remind", "email", "due_today", "neutral"),
        ("2026-12-04T10:00:00-03:00", "remind", "whatsapp", "overdue", "neutral"),
        ("2026-12-11T10:00:00-03:00", "remind", "sms", "overdue", "firm"),
        ("2026-12-16T10:00:00-03:00", "negotiate", None, None, None),
        ("2026-12-19T10:00:00-03:00", "remind", "email", "final_notice", "final"),
        ("2026-12-21T10:00:00-03:00", "handoff", None, None, None),
    ]


def test_preview_in_mexico_city_uses_its_offset():
    result = runner.invoke(
        app,
        [
            "policies",
            "preview",
            "high_risk",
            "--due",
            "2026-12-01",
            "--country",
            "MX",
            "--timezone",
            "America/Mexico_City",
            "--locale",
            "es_MX",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert all(s["at"].endswith("-06:00") for s in json.loads(result.output))


def test_preview_of_an_unknown_policy_names_the_known_ones():
    result = runner.invoke(app, ["policies", "preview", "gentle", "--due", "2026-12-01"])
    assert result.exit_code == 1
    assert "unknown policy 'gentle'" in result.output
    assert "standard" in result.output


def test_check_reports_what_makes_a_policy_unsafe():
    broken = Policy(
        name="broken",
        version=1,
        description="every mistake at once",
        steps=(
            Remind(
                id="late",
                offset_days=10,
                channels=(Channel.EMAIL,),
                template="overdue",
                tone=Tone.FIRM,
            ),
            Remind(
                id="early",
                offset_days=2,
                channels=(Channel.SMS,),
                template="nonexistent",
                tone=Tone.FIRM,
            ),
            Handoff(id="agency", agency="X"),
            Remind(
                id="late",
                offset_days=400,
                channels=(Channel.EMAIL,),
                template="overdue",
                tone=Tone.FIRM,
            ),
        ),
    )
    problems = "\n".join(check_policy(broken))
    assert "step ids used twice: late" in problems
    assert "steps must be in date order" in problems
    assert "outside -60..365" in problems
    assert "handoff must be the single, last step" in problems
    assert "handoff needs a negotiate step" in problems
    assert "no es template 'nonexistent' for sms" in problems


def test_check_flags_a_reminder_that_would_fall_after_the_handoff():
    policy = Policy(
        name="late-notice",
        version=1,
        description="",
        steps=(
            Negotiate(id="call", offset_days=10, queue="q", sla_days=5),
            Remind(
                id="after",
                offset_days=15,
                channels=(Channel.EMAIL,),
                template="overdue",
                tone=Tone.FIRM,
            ),
            Handoff(id="agency", agency="X"),
        ),
    )
    assert any("would never be sent" in p for p in check_policy(policy))
