"""Collector tasks: opened by a workflow, completed by a collector or expired by their SLA."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ledger.models import Task
from ledger.repositories.base import Repository


class TaskConflict(ValueError):
    """A task was asked to end in a way that contradicts how it already ended."""


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

    def list_tasks(self, *, open_only: bool = False) -> Sequence[Task]:
        query = select(Task).order_by(Task.sla_due_at, Task.id)
        if open_only:
            query = query.where(Task.status == "open")
        return self.session.scalars(query).all()

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
