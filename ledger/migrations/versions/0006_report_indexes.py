"""Indexes for the collection KPIs (``dunning report``, ``GET /v1/reports``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

Written by hand and frozen, like the others. Measured with ``bench.reports`` on 1,000,000
invoices (docs/KPIS.md, "Performance"): every balance at an instant looks up each invoice's
``closed`` event, and time to pay each invoice's first ``message_sent``; without an index both
read the whole bitácora (two lines per invoice and more) to find a few rows of one kind.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_interactions_kind_invoice_number",
        "interactions",
        ["kind", "invoice_number", "occurred_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_interactions_kind_invoice_number", table_name="interactions")
