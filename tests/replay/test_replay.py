"""Every committed history, recorded from an earlier version of the invoice workflow, replays
against the current code: a non-deterministic change fails here, not in production.

No server: the Replayer runs the workflow code over the stored events. How to record a new
generation is in ``tests/replay/README.md``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from tests.replay.changed_workflow import TimerFirstInvoiceWorkflow
from tests.replay.record import invoice_number
from workflows.invoice import InvoiceDunningWorkflow
from workflows.messages import workflow_id_for

HISTORIES = Path(__file__).parent / "histories"
RECORDED = sorted(HISTORIES.glob("v*/*.json"))


def history(path: Path) -> WorkflowHistory:
    """The recorder names each invoice after its scenario (the file's stem)."""
    return WorkflowHistory.from_json(workflow_id_for(invoice_number(path.stem)), path.read_text())


def test_every_generation_has_histories() -> None:
    generations = {path.parent.name for path in RECORDED}
    assert "v1" in generations
    assert all(len(list((HISTORIES / g).glob("*.json"))) >= 7 for g in generations)


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_a_recorded_history_replays_on_the_current_workflow(path: Path) -> None:
    replayer = Replayer(workflows=[InvoiceDunningWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure!r}"


async def test_a_non_deterministic_change_fails_the_replay() -> None:
    replayer = Replayer(
        workflows=[TimerFirstInvoiceWorkflow], data_converter=pydantic_data_converter
    )
    with pytest.raises(NondeterminismError, match="TMPRL1100"):
        await replayer.replay_workflow(history(HISTORIES / "v1" / "paid_after_due_day.json"))
