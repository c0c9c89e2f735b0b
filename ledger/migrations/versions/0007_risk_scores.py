"""Customer risk scores.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

Written by hand and frozen, like the others. ``customer_risk``: each customer's latest
behaviour-based score (0–100), the segment it put them in, when, and why (``reasons``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "customer_risk",
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(), nullable=False),
        sa.Column("scored_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("reasons", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customer_risk"),
        sa.CheckConstraint("score >= 0 AND score <= 100", name="ck_customer_risk_score_range"),
        sa.CheckConstraint(
            "segment IN ('preferred', 'standard', 'high_risk')",
            name="ck_customer_risk_segment_known",
        ),
    )


def downgrade() -> None:
    op.drop_table("customer_risk")
