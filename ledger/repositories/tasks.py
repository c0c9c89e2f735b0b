"""Collector tasks: opened by a workflow, completed by a collector or expired by their SLA;
claimed by a collector or assigned by ops, and snoozed out of the inbox for a while.

Who works a task is the ledger's business alone: picking up work is not a dunning fact, so
no workflow hears of it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update

from ledger.models import Task, User
from ledger.repositories.base import RecordNotFound, Repository


class TaskConflict(ValueError):
    """A task was asked to end in a way that contradicts how it already ended."""


class TaskClaimed(TaskConflict):
    """Another collector works the task."""

    def __init__(self, task: Task) -> None:
        claimed = task.claimed_at.isoformat() if task.claimed_at else "earlier"
        super().__init__(f"task {task.id} is being worked by {task.assignee} since {claimed}")
        self.assignee = task.assignee


class TaskRepository(Repository[Task]):
    model = Task

    def open_if_absent(
        self,
        *,
        id: str,
        invoice_number: str,
        customer_id: str,
        workflow_id: str,
        queue: str,
        kind: str,
        created_at: datetime,
        sla_due_at: datetime,
        detail: dict[str, Any] | None = None,
    ) -> tuple[Task, bool]:
        created = self._insert_if_absent(
            {
                "id": id,
                "invoice_number": invoice_number,
                "customer_id": customer_id,
                "workflow_id": workflow_id,
                "queue": queue,
                "kind": kind,
                "status": "open",
                "created_at": created_at,
                "sla_due_at": sla_due_at,
                "detail": dict(detail or {}),
            },
            conflict_on="id",
        )
        return self._get_or_raise(id), created

    def get(self, task_id: str) -> Task | None:
        return self._get(task_id)

    def list_tasks(
        self, *, open_only: bool = False, visible_at: datetime | None = None
    ) -> Sequence[Task]:
        """``visible_at``: only open tasks not snoozed beyond that moment (the inbox)."""
        query = select(Task).order_by(Task.sla_due_at, Task.id)
        if open_only or visible_at is not None:
            query = query.where(Task.status == "open")
        if visible_at is not None:
            query = query.where(or_(Task.snoozed_until.is_(None), Task.snoozed_until <= visible_at))
        return self.session.scalars(query).all()

    def claim(self, task_id: str, user_id: str, at: datetime, *, force: bool = False) -> Task:
        """The collector ``user_id`` takes an open task. Claiming it again changes nothing (the
        first claim's time stays); a task another collector works raises ``TaskClaimed``
        unless ``force`` (a supervisor taking it over). A task no longer open: ``TaskConflict``.

        One conditional UPDATE, so two collectors claiming at once cannot both win.
        """
        unclaimed = Task.assignee.is_(None)
        self._set_assignee(
            task_id,
            user_id,
            at,
            only_if=Task.assignee.is_distinct_from(user_id) if force else unclaimed,
        )
        task = self._refreshed(task_id)
        if task.assignee == user_id and task.status == "open":
            return task
        if task.status != "open":
            raise TaskConflict(f"task {task_id} is {task.status}: there is nothing to work on")
        raise TaskClaimed(task)

    def assign(self, task_id: str, user_id: str, at: datetime) -> Task:
        """Ops gives an open task to ``user_id``, whoever worked it before. An unknown or
        disabled user raises ``RecordNotFound``; a task no longer open, ``TaskConflict``."""
        user = self.session.get(User, user_id)
        if user is None or user.disabled_at is not None:
            raise RecordNotFound(f"no active user {user_id!r}")
        self._set_assignee(task_id, user_id, at, only_if=Task.assignee.is_distinct_from(user_id))
        task = self._refreshed(task_id)
        if task.status != "open":
            raise TaskConflict(f"task {task_id} is {task.status}: there is nothing to work on")
        return task

    def release(self, task_id: str) -> Task:
        """Back to its queue, for any collector to claim."""
        task = self._get_or_raise(task_id)
        task.assignee = None
        task.claimed_at = None
        self.session.flush()
        return task

    def _set_assignee(
        self, task_id: str, user_id: str, at: datetime, *, only_if: ColumnElement[bool]
    ) -> None:
        """Give the task to ``user_id`` if it is open and ``only_if`` holds."""
        self._get_or_raise(task_id)
        self.session.flush()
        self.session.execute(
            update(Task)
            .where(Task.id == task_id, Task.status == "open", only_if)
            .values(assignee=user_id, claimed_at=at)
            .execution_options(synchronize_session=False)
        )

    def snooze(self, task_id: str, *, until: datetime) -> Task:
        """Hidden from the inbox until ``until``; setting the same moment again changes nothing."""
        task = self._get_or_raise(task_id)
        task.snoozed_until = until
        self.session.flush()
        return task

    def complete(
        self,
        task_id: str,
        *,
        outcome: str,
        completed_at: datetime,
        detail: dict[str, Any] | None = None,
    ) -> Task:
        """Close the task with the collector's outcome; ``detail`` is merged into the task's.

        Repeating the same completion is a no-op (an activity retry). An expired task can still
        be completed: the workflow accepted the collector's update, and the ledger follows it.
        A second, different outcome is refused with ``TaskConflict``.
        """
        task = self._get_or_raise(task_id)
        if task.status == "completed":
            if task.outcome == outcome:
                return task
            raise TaskConflict(
                f"task {task_id} was already completed as {task.outcome!r}, not {outcome!r}"
            )
        task.status = "completed"
        task.outcome = outcome
        task.completed_at = completed_at
        # A new dict, not an in-place change: the JSON column only notices reassignment.
        task.detail = {**task.detail, **(detail or {})}
        self.session.flush()
        return task

    def expire(self, task_id: str, *, at: datetime) -> Task:
        """Mark an open task as past its SLA; a completed or expired task is left as it is."""
        task = self._get_or_raise(task_id)
        if task.status != "open":
            return task
        task.status = "expired"
        # No column for it: completed_at would wrongly claim someone finished the task.
        task.detail = {**task.detail, "expired_at": at.isoformat()}
        self.session.flush()
        return task
