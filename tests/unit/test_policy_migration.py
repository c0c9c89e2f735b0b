"""Moving an invoice to a newer version of its policy (pure): only forward, within the same
policy, on an open invoice; what was done stays done, the new version's other steps follow."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from cli.policy_migration import MigrationLine, show
from dunning_policies import transitions as t
from dunning_policies.engine import SendMessage, apply_action, next_action
from dunning_policies.language import Channel, Remind, Tone
from dunning_policies.policies.standard import POLICY as STANDARD
from dunning_policies.state import StepStatus
from starter import app
from tests.factories import local, make_state

DUE = date(2026, 12, 1)  # a Tuesday
OVERDUE_7 = Remind(
    id="overdue_7", offset_days=7, channels=(Channel.SMS,), template="overdue", tone=Tone.FIRM
)
V2 = STANDARD.model_copy(
    update={"version": 2, "steps": (*STANDARD.steps[:3], OVERDUE_7, *STANDARD.steps[3:])}
)


def after_overdue_3():
    """v1 invoice that has had its first three reminders."""
    state = t.record_issued(make_state(DUE), local(DUE - timedelta(days=20)), STANDARD)
    for step_id, days, channel in (
        ("preventive", -3, Channel.EMAIL),
        ("due_day", 0, Channel.EMAIL),
        ("overdue_3", 3, Channel.WHATSAPP),
    ):
        step = STANDARD.step(step_id)
        assert isinstance(step, Remind)
        state = t.mark_sent(state, step, channel, local(DUE + timedelta(days=days)), {})
    return state


def test_a_migration_records_from_and_to_versions_and_keeps_every_step_taken():
    state = after_overdue_3()
    at = local(DUE + timedelta(days=4))
    migrated = t.migrate_policy(state, STANDARD, V2, at, "ops@example.com")

    event = migrated.timeline[-1]
    assert (event.kind, event.at, event.seq) == ("policy_migrated", at, state.next_seq)
    assert event.detail == {
        "policy": "standard",
        "from_version": "1",
        "to_version": "2",
        "requested_by": "ops@example.com",
    }
    assert (
        migrated.steps
        == state.steps
        == {
            "preventive": StepStatus.SENT,
            "due_day": StepStatus.SENT,
            "overdue_3": StepStatus.SENT,
        }
    )
    assert migrated.timeline[:-1] == state.timeline


def test_after_a_migration_the_engine_plans_the_new_step_and_never_repeats_one_sent():
    at = local(DUE + timedelta(days=4))
    state = t.migrate_policy(after_overdue_3(), STANDARD, V2, at, "ops")

    decision = next_action(V2, state, at)
    assert decision.action == SendMessage(OVERDUE_7, Channel.SMS)
    assert decision.at == local(DUE + timedelta(days=7))
    sent_at = local(DUE + timedelta(days=7))
    state = apply_action(V2, state, decision.action, sent_at)
    state = t.mark_sent(state, OVERDUE_7, Channel.SMS, sent_at, {})
    following = next_action(V2, state, sent_at)
    assert following.action == SendMessage(STANDARD.step("overdue_10"), Channel.SMS)


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        (STANDARD, "v1 is not newer"),
        (V2.model_copy(update={"version": 1}), "v1 is not newer"),
        (V2.model_copy(update={"name": "preferred"}), "follows policy 'standard', not 'preferred'"),
    ],
)
def test_a_migration_sideways_or_backwards_is_refused(new, reason):
    state = after_overdue_3()
    with pytest.raises(t.MigrationRefused, match=reason):
        t.migrate_policy(state, STANDARD, new, local(DUE + timedelta(days=4)), "ops")
    with pytest.raises(t.MigrationRefused):
        t.check_migration(state, V2, V2)


def test_a_closed_invoice_is_not_migrated():
    at = local(DUE + timedelta(days=4))
    state = t.close(after_overdue_3(), "cancelled", at)
    with pytest.raises(t.MigrationRefused, match="is cancelled"):
        t.migrate_policy(state, STANDARD, V2, at, "ops")


# --- the command's own checks and report (no Temporal, no ledger) ---


def test_the_command_refuses_a_version_other_than_the_installed_one():
    result = CliRunner().invoke(
        app, ["policies", "migrate", "--policy", "standard", "--to-version", "2", "--dry-run"]
    )
    assert result.exit_code == 1
    assert "--to-version 2 is not the installed version" in result.output
    assert "standard is v1" in result.output


def test_the_report_has_a_line_per_invoice_and_a_summary(capsys):
    lines = [
        MigrationLine("F-1", "invoice-F-1", 1, 2, "migrated"),
        MigrationLine("F-2", "invoice-F-2", 1, 2, "not running"),
        MigrationLine("F-3", "invoice-F-3", 1, 2, "failed: deadline exceeded"),
    ]
    show(V2, lines, dry_run=False, as_json=False)
    out = capsys.readouterr().out
    assert "invoice-F-1" in out and "v1 → v2" in out and "failed: deadline exceeded" in out
    assert out.strip().splitlines()[-1] == ("standard → v2: 1 migrated, 1 not running, 1 failed")
