from __future__ import annotations

import json
from datetime import time

from typer.testing import CliRunner

from dunning_policies.checks import check_policy
from dunning_policies.language import (
    Channel,
    ContactWindow,
    Handoff,
    Negotiate,
    Policy,
    Remind,
    Tone,
)
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
        # Day 3 would be a third contact within 7 days of 28 November: a Chilean consumer
        # gets it on the 5th, when the first one no longer counts.
        ("2026-12-05T10:00:00-03:00", "remind", "whatsapp", "overdue", "neutral"),
        ("2026-12-11T10:00:00-03:00", "remind", "sms", "overdue", "firm"),
        ("2026-12-16T10:00:00-03:00", "negotiate", None, None, None),
        ("2026-12-19T10:00:00-03:00", "remind", "email", "final_notice", "final"),
        ("2026-12-21T10:00:00-03:00", "handoff", None, None, None),
    ]
    assert "at most 2 other contacts a week" in steps[2]["moved_by"]
    assert steps[1]["moved_by"] is None


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


def test_check_looks_for_the_voice_script_of_a_step_that_calls():
    def policy(template: str) -> Policy:
        return Policy(
            name="calls",
            version=1,
            description="",
            steps=(
                Remind(
                    id="call",
                    offset_days=5,
                    channels=(Channel.VOICE, Channel.SMS),
                    template=template,
                    tone=Tone.FIRM,
                ),
            ),
        )

    assert check_policy(policy("overdue")) == []
    problems = check_policy(policy("sms_only"))
    assert "step 'call': no es template 'sms_only' for voice" in problems
    assert "step 'call': no en template 'sms_only' for voice" in problems


def preview_json(*args: str) -> list[dict]:
    result = runner.invoke(app, ["policies", "preview", "standard", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_preview_names_the_rule_that_moved_a_message_off_a_chilean_holiday():
    steps = preview_json(
        "--due", "2026-09-18", "--country", "CL", "--timezone", "America/Santiago", "--consumer"
    )
    by_step = {s["step"]: s for s in steps}
    moved = by_step["due_day"]
    assert moved["at"] == "2026-09-21T09:00:00-03:00"
    assert moved["moved_by"].startswith(
        "2026-09-18 is a public holiday (Independence Day): "
        "Ley 19.496 art. 37 (Ley 21.320): never on holidays"
    )
    assert by_step["preventive"]["at"] == "2026-09-15T10:00:00-03:00"
    assert by_step["preventive"]["moved_by"] is None
    assert all(s["moved_by"] is None for s in steps if s["kind"] != "remind")


def test_preview_of_a_business_debt_names_the_business_rules():
    # Sunday 29 November 2026: a consumer's reminder waits under Ley 19.496, a business's under
    # the business default; both go out on Monday when the policy's window opens.
    args = ("--due", "2026-12-02", "--country", "CL")
    consumer, business = preview_json(*args, "--consumer")[0], preview_json(*args, "--business")[0]
    for first in (consumer, business):
        assert (first["step"], first["at"]) == ("preventive", "2026-11-30T09:00:00-03:00")
    assert "(law: Ley 19.496 art. 37 (Ley 21.320)" in consumer["moved_by"]
    assert "(law: business default" in business["moved_by"]


def test_preview_takes_the_time_zone_of_the_country_and_checks_the_region():
    steps = preview_json("--due", "2026-12-01", "--country", "MX")
    assert all(s["at"].endswith("-06:00") for s in steps)
    result = runner.invoke(
        app, ["policies", "preview", "standard", "--due", "2026-12-01", "--subdivision", "XX"]
    )
    assert result.exit_code == 1
    assert "'XX' is not a subdivision of CL" in result.output


def test_preview_table_has_a_moved_by_column():
    result = runner.invoke(
        app, ["policies", "preview", "standard", "--due", "2026-09-18"], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 0, result.output
    assert "moved by" in result.output
    assert "2026-09-18 is a public holiday (Independence Day)" in result.output


def test_check_warns_about_a_window_wider_than_a_law_allows(monkeypatch):
    import cli.policies

    early = all_policies()["standard"].model_copy(
        update={"name": "early", "window": ContactWindow(start=time(7, 0), end=time(19, 0))}
    )
    monkeypatch.setattr(cli.policies, "all_policies", lambda: {"early": early})
    result = runner.invoke(app, ["policies", "check"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output  # a warning, not a problem
    assert "early: ok" in result.output
    assert "warning: window 07:00–19:00 is wider than Chile, consumer debt allows" in result.output
