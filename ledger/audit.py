"""The bitácora's hash chain: how a line is hashed, and the walk that proves nobody edited it.

Each customer's lines form one chain in insert (id) order: a line's ``row_hash`` is the SHA-256
of a canonical JSON of its content plus ``prev_hash``, the ``row_hash`` of the customer's line
before it (``GENESIS`` for the first). Editing a line changes its hash; deleting one leaves the
next line pointing at a hash nobody has. A retention purge (``ledger.retention``) removes the
oldest lines of a chain and appends a ``records_purged`` line that names the hash the first
surviving line links to, so the walk can start there and the purge itself is in the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Interaction

GENESIS = "0" * 64
PURGE_KIND = "records_purged"
"""The line a retention purge appends; its detail carries ``anchor_hash`` and ``through_id``."""

HASHED_FIELDS = (
    "event_key",
    "occurred_at",
    "invoice_number",
    "customer_id",
    "workflow_id",
    "kind",
    "step_id",
    "channel",
    "template",
    "status",
    "detail",
)

Problem = Literal["content changed", "link broken", "row missing"]


def _utc_iso(moment: datetime) -> str:
    # SQLite hands back naive UTC, PostgreSQL aware: both must hash the same.
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat()


def content_hash(values: Mapping[str, Any], prev_hash: str) -> str:
    """The ``row_hash`` of a line with these values whose predecessor's hash is ``prev_hash``."""
    document = {field: values.get(field) for field in HASHED_FIELDS}
    document["occurred_at"] = _utc_iso(values["occurred_at"])
    document["detail"] = dict(values.get("detail") or {})
    document["prev_hash"] = prev_hash
    canonical = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def hash_of(line: Interaction) -> str:
    """What ``line.row_hash`` must be, given its content and its stored ``prev_hash``."""
    values = {field: getattr(line, field) for field in HASHED_FIELDS}
    return content_hash(values, line.prev_hash or "")


@dataclass(frozen=True)
class BrokenLine:
    """The first line of a customer's chain that does not check out, and why."""

    customer_id: str
    interaction_id: int
    event_key: str
    problem: Problem
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "interaction_id": self.interaction_id,
            "event_key": self.event_key,
            "problem": self.problem,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class ChainReport:
    customers: int
    lines: int
    broken: tuple[BrokenLine, ...]

    @property
    def intact(self) -> bool:
        return not self.broken

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "customers": self.customers,
            "lines": self.lines,
            "broken": [line.as_dict() for line in self.broken],
        }


def first_break(lines: Iterable[Interaction]) -> BrokenLine | None:
    """Walk one customer's lines in id order; the first that fails, or None when all hold."""
    ordered = list(lines)
    anchors = {
        str(line.detail.get("anchor_hash")): int(line.detail.get("through_id", 0))
        for line in ordered
        if line.kind == PURGE_KIND and line.detail.get("anchor_hash")
    }
    expected_prev = GENESIS
    for position, line in enumerate(ordered):
        if line.row_hash is None or line.row_hash != hash_of(line):
            return _broken(line, "content changed", "its content no longer matches its hash")
        if line.prev_hash == expected_prev:
            expected_prev = line.row_hash
            continue
        purged_through = anchors.get(line.prev_hash or "")
        if position == 0 and purged_through is not None and purged_through < line.id:
            # The lines before this one were purged under the retention rule, and the purge
            # line (itself hashed into the chain further on) vouches for where they ended.
            expected_prev = line.row_hash
            continue
        if position > 0 and any(line.prev_hash == other.row_hash for other in ordered):
            return _broken(line, "link broken", "it links to a line that is not its predecessor")
        return _broken(
            line,
            "row missing",
            "the line it links to is gone (deleted, or rewritten along with its hash)",
        )
    return None


def _broken(line: Interaction, problem: Problem, explanation: str) -> BrokenLine:
    return BrokenLine(line.customer_id, line.id, line.event_key, problem, explanation)


def verify_chains(session: Session, customer_id: str | None = None) -> ChainReport:
    """Check every customer's chain (or one customer's): the first broken line of each."""
    # What the database holds now, not copies this session loaded earlier; streamed in
    # batches, so only one customer's lines are held at a time.
    query = (
        select(Interaction)
        .order_by(Interaction.customer_id, Interaction.id)
        .execution_options(populate_existing=True, yield_per=2000)
    )
    if customer_id is not None:
        query = query.where(Interaction.customer_id == customer_id)
    customers = lines = 0
    broken: list[BrokenLine] = []
    for _, group in groupby(session.scalars(query), key=lambda line: line.customer_id):
        chain = list(group)
        customers += 1
        lines += len(chain)
        found = first_break(chain)
        if found is not None:
            broken.append(found)
    return ChainReport(customers=customers, lines=lines, broken=tuple(broken))
