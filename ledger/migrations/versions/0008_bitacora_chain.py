"""The bitácora's hash chain.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24

Written by hand and frozen, like the others. ``interactions`` gains ``prev_hash`` and
``row_hash``: each line carries the SHA-256 of its content and of its customer's previous line
(``ledger.audit``). Existing lines are chained here, per customer in id (insert) order, the
order ``dunning audit verify`` walks. The table is append-only by trigger (0001 refuses every
UPDATE), so the backfill drops the UPDATE trigger, fills the two columns and recreates the
trigger exactly as 0001 made it, all inside the migration's transaction: no other writer ever
sees the table without its guard. The hashing is copied here rather than imported so that this
migration keeps producing the same hashes whatever later becomes of ``ledger.audit``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_MESSAGE = "interactions is append-only"
GENESIS = "0" * 64
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
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

interactions = sa.table(
    "interactions",
    sa.column("id", sa.BigInteger()),
    *(
        sa.column(name, sa.String())
        for name in HASHED_FIELDS
        if name not in {"occurred_at", "detail"}
    ),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("detail", JSON_DOCUMENT),
    sa.column("prev_hash", sa.String()),
    sa.column("row_hash", sa.String()),
)


def _row_hash(values: dict[str, Any], prev_hash: str) -> str:
    document = {field: values.get(field) for field in HASHED_FIELDS}
    moment: datetime = values["occurred_at"]
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    document["occurred_at"] = aware.isoformat()
    document["detail"] = dict(values.get("detail") or {})
    document["prev_hash"] = prev_hash
    canonical = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def upgrade() -> None:
    op.add_column("interactions", sa.Column("prev_hash", sa.String(), nullable=True))
    op.add_column("interactions", sa.Column("row_hash", sa.String(), nullable=True))
    postgres = op.get_context().dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE interactions DISABLE TRIGGER interactions_no_update_or_delete")
    else:
        op.execute("DROP TRIGGER interactions_no_update")
    _chain_existing_lines()
    if postgres:
        op.execute("ALTER TABLE interactions ENABLE TRIGGER interactions_no_update_or_delete")
    else:
        op.execute(
            "CREATE TRIGGER interactions_no_update BEFORE UPDATE ON interactions BEGIN"
            f" SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: UPDATE refused'); END"
        )


def _chain_existing_lines() -> None:
    connection = op.get_bind()
    last_hash: dict[str, str] = {}
    rows = connection.execute(
        sa.select(interactions).order_by(interactions.c.customer_id, interactions.c.id)
    ).mappings()
    updates = []
    for row in rows:
        prev_hash = last_hash.get(row["customer_id"], GENESIS)
        row_hash = _row_hash(dict(row), prev_hash)
        last_hash[row["customer_id"]] = row_hash
        updates.append({"line_id": row["id"], "prev": prev_hash, "hash": row_hash})
    if updates:
        connection.execute(
            interactions.update()
            .where(interactions.c.id == sa.bindparam("line_id"))
            .values(prev_hash=sa.bindparam("prev"), row_hash=sa.bindparam("hash")),
            updates,
        )


def downgrade() -> None:
    # Dropping a column is DDL, not an UPDATE: the append-only triggers do not object.
    op.drop_column("interactions", "row_hash")
    op.drop_column("interactions", "prev_hash")
