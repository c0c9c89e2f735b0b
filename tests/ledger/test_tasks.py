from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ledger.models import Task
from ledger.repositories import RecordNotFound, TaskConflict, TaskRepository
from tests.ledger_support import at


def _open(
    session: Session,
    task_id: str = "T-1",
    *,
    sla_due_at: datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> tuple[Task, bool]:
    return TaskRepository.from_session(session).open_if_absent(
        id=task_id,
        invoice_number="F-1",
        customer_id="C-1",
        workflow_id="invoice-F-1",
        queue="collectors-cl",
        kind="call_debtor",
        created_at=at("2025-04-10 12:00"),
        sla_due_at=sla_due_at or at("2025-04-12 12:00"),
        detail=detail,
    )


def test_open_if_absent_opens_a_task_once(session: Session) -> None:
    task, created = _open(session, detail={"script": "first-call"})
    again, created_again = _open(session, detail={"script": "other"})

    assert (created, created_again) == (True, False)
    assert again is task
    assert (task.status, task.queue, task.kind) == ("open", "collectors-cl", "call_debtor")
    assert task.detail == {"script": "first-call"}
    assert task.completed_at is None and task.outcome is None
    assert TaskRepository.from_session(session).get("T-1") is task


def test_get_of_an_unknown_task_is_none(session: Session) -> None:
    assert TaskRepository.from_session(session).get("T-404") is None


def test_list_tasks_orders_by_sla_and_can_show_only_open_ones(session: Session) -> None:
    _open(session, "T-late", sla_due_at=at("2025-04-20 12:00"))
    _open(session, "T-soon", sla_due_at=at("2025-04-11 12:00"))
    _open(session, "T-done")
    tasks = TaskRepository.from_session(session)
    tasks.complete("T-done", outcome="promise_to_pay", completed_at=at("2025-04-10 15:00"))

    assert [task.id for task in tasks.list_tasks()] == ["T-soon", "T-done", "T-late"]
    assert [task.id for task in tasks.list_tasks(open_only=True)] == ["T-soon", "T-late"]


def test_complete_records_the_outcome_and_merges_the_detail(session: Session) -> None:
    _open(session, detail={"script": "first-call"})

    task = TaskRepository.from_session(session).complete(
        "T-1",
        outcome="promise_to_pay",
        completed_at=at("2025-04-10 15:00"),
        detail={"promised_on": "2025-04-20"},
    )
    session.expire_all()

    assert task.status == "completed" and task.outcome == "promise_to_pay"
    assert task.completed_at == at("2025-04-10 15:00")
    assert task.detail == {"script": "first-call", "promised_on": "2025-04-20"}


def test_completing_again_with_the_same_outcome_is_a_no_op(session: Session) -> None:
    _open(session)
    tasks = TaskRepository.from_session(session)
    tasks.complete("T-1", outcome="dispute", completed_at=at("2025-04-10 15:00"))

    again = tasks.complete("T-1", outcome="dispute", completed_at=at("2025-04-11 09:00"))

    assert again.completed_at == at("2025-04-10 15:00")


def test_completing_again_with_another_outcome_is_refused(session: Session) -> None:
    _open(session)
    tasks = TaskRepository.from_session(session)
    tasks.complete("T-1", outcome="dispute", completed_at=at("2025-04-10 15:00"))

    with pytest.raises(TaskConflict, match="already completed"):
        tasks.complete("T-1", outcome="paid", completed_at=at("2025-04-11 09:00"))


def test_expire_closes_an_open_task_past_its_sla(session: Session) -> None:
    _open(session)

    task = TaskRepository.from_session(session).expire("T-1", at=at("2025-04-12 12:00"))
    session.expire_all()

    assert task.status == "expired"
    assert task.completed_at is None
    assert task.detail == {"expired_at": "2025-04-12T12:00:00+00:00"}


def test_expire_leaves_a_completed_task_alone(session: Session) -> None:
    _open(session)
    tasks = TaskRepository.from_session(session)
    tasks.complete("T-1", outcome="paid", completed_at=at("2025-04-10 15:00"))

    task = tasks.expire("T-1", at=at("2025-04-12 12:00"))

    assert (task.status, task.outcome) == ("completed", "paid")


def test_an_expired_task_can_still_be_completed(session: Session) -> None:
    _open(session)
    tasks = TaskRepository.from_session(session)
    tasks.expire("T-1", at=at("2025-04-12 12:00"))
    tasks.expire("T-1", at=at("2025-04-13 12:00"))

    task = tasks.complete("T-1", outcome="promise_to_pay", completed_at=at("2025-04-13 15:00"))

    assert task.status == "completed"
    assert task.detail["expired_at"] == "2025-04-12T12:00:00+00:00"


def test_unknown_tasks_cannot_be_completed_or_expired(session: Session) -> None:
    tasks = TaskRepository.from_session(session)
    with pytest.raises(RecordNotFound):
        tasks.complete("T-404", outcome="paid", completed_at=at("2025-04-10 15:00"))
    with pytest.raises(RecordNotFound):
        tasks.expire("T-404", at=at("2025-04-10 15:00"))
