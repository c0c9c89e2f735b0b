"""Who works a task: a collector claims it, ops assigns it, either gives it back; a snooze
hides it from the inbox. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ledger.models import User
from ledger.repositories import RecordNotFound, TaskConflict, TaskRepository
from ledger.repositories.tasks import TaskClaimed
from tests.ledger_support import at


def _open(session: Session, task_id: str = "T-1", sla: str = "2025-04-15 12:00") -> None:
    TaskRepository.from_session(session).open_if_absent(
        id=task_id,
        invoice_number="F-1",
        customer_id="C-1",
        workflow_id="invoice-F-1",
        queue="standard",
        kind="negotiation",
        created_at=at("2025-04-10 12:00"),
        sla_due_at=at(sla),
    )


def _user(session: Session, user_id: str, *, disabled: bool = False) -> None:
    session.add(
        User(
            id=user_id,
            email=f"{user_id}@example.com",
            name=user_id.title(),
            role="collector",
            password_hash="x",
            totp_secret="x",
            disabled_at=at("2025-04-01 00:00") if disabled else None,
        )
    )
    session.flush()


def test_a_collector_claims_an_open_task_and_claiming_again_changes_nothing(
    session: Session,
) -> None:
    _open(session)
    tasks = TaskRepository.from_session(session)

    task = tasks.claim("T-1", "ana", at("2025-04-10 13:00"))
    again = tasks.claim("T-1", "ana", at("2025-04-10 15:00"))

    assert (task.assignee, task.claimed_at) == ("ana", at("2025-04-10 13:00"))
    assert (again.assignee, again.claimed_at) == ("ana", at("2025-04-10 13:00"))


def test_a_task_another_collector_works_is_refused_unless_forced(session: Session) -> None:
    _open(session)
    tasks = TaskRepository.from_session(session)
    tasks.claim("T-1", "ana", at("2025-04-10 13:00"))

    with pytest.raises(TaskClaimed) as refused:
        tasks.claim("T-1", "luis", at("2025-04-10 14:00"))
    assert str(refused.value) == "task T-1 is being worked by ana since 2025-04-10T13:00:00+00:00"
    assert tasks.get("T-1").assignee == "ana"  # type: ignore[union-attr]

    taken = tasks.claim("T-1", "luis", at("2025-04-10 14:00"), force=True)
    assert (taken.assignee, taken.claimed_at) == ("luis", at("2025-04-10 14:00"))


def test_a_task_no_longer_open_cannot_be_claimed_or_assigned(session: Session) -> None:
    _open(session)
    _user(session, "ana")
    tasks = TaskRepository.from_session(session)
    tasks.complete("T-1", outcome="paid", completed_at=at("2025-04-10 13:00"))

    with pytest.raises(TaskConflict, match="task T-1 is completed"):
        tasks.claim("T-1", "ana", at("2025-04-10 14:00"))
    with pytest.raises(TaskConflict, match="task T-1 is completed"):
        tasks.assign("T-1", "ana", at("2025-04-10 14:00"))
    assert tasks.get("T-1").assignee is None  # type: ignore[union-attr]


def test_ops_assigns_a_task_to_an_active_user_whoever_had_it(session: Session) -> None:
    _open(session)
    _user(session, "ana")
    _user(session, "luis")
    _user(session, "old", disabled=True)
    tasks = TaskRepository.from_session(session)
    tasks.claim("T-1", "ana", at("2025-04-10 13:00"))

    task = tasks.assign("T-1", "luis", at("2025-04-10 14:00"))
    same = tasks.assign("T-1", "luis", at("2025-04-10 16:00"))

    assert (task.assignee, task.claimed_at) == ("luis", at("2025-04-10 14:00"))
    assert same.claimed_at == at("2025-04-10 14:00")
    with pytest.raises(RecordNotFound, match="no active user 'old'"):
        tasks.assign("T-1", "old", at("2025-04-10 15:00"))
    with pytest.raises(RecordNotFound, match="no active user 'nobody'"):
        tasks.assign("T-1", "nobody", at("2025-04-10 15:00"))
    assert tasks.get("T-1").assignee == "luis"  # type: ignore[union-attr]


def test_a_released_task_goes_back_to_its_queue(session: Session) -> None:
    _open(session)
    tasks = TaskRepository.from_session(session)
    tasks.claim("T-1", "ana", at("2025-04-10 13:00"))

    released = tasks.release("T-1")
    assert (released.assignee, released.claimed_at, released.status) == (None, None, "open")

    claimed = tasks.claim("T-1", "luis", at("2025-04-10 14:00"))
    assert (claimed.assignee, claimed.claimed_at) == ("luis", at("2025-04-10 14:00"))


def test_an_unknown_task_is_not_found(session: Session) -> None:
    tasks = TaskRepository.from_session(session)
    with pytest.raises(RecordNotFound):
        tasks.claim("T-none", "ana", at("2025-04-10 13:00"))
    with pytest.raises(RecordNotFound):
        tasks.release("T-none")
    with pytest.raises(RecordNotFound):
        tasks.snooze("T-none", until=at("2025-04-11 13:00"))


def test_a_snoozed_task_leaves_the_inbox_until_its_moment(session: Session) -> None:
    _open(session, "T-1")
    _open(session, "T-2", sla="2025-04-16 12:00")
    tasks = TaskRepository.from_session(session)

    tasks.snooze("T-1", until=at("2025-04-12 09:00"))

    def inbox(moment: str) -> list[str]:
        return [task.id for task in tasks.list_tasks(visible_at=at(moment))]

    assert tasks.get("T-1").snoozed_until == at("2025-04-12 09:00")  # type: ignore[union-attr]
    assert inbox("2025-04-11 09:00") == ["T-2"]
    assert inbox("2025-04-12 09:00") == ["T-1", "T-2"]
    tasks.complete("T-2", outcome="paid", completed_at=at("2025-04-12 10:00"))
    assert inbox("2025-04-13 09:00") == ["T-1"]
    # Every task, snoozed or not, in the full list.
    assert [task.id for task in tasks.list_tasks()] == ["T-1", "T-2"]
