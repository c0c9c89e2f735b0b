"""Contact rules by jurisdiction: a customer's debt type (consumer or business) and subdivision.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Written by hand and frozen, like 0001 and 0002. Both columns are nullable: a customer the ERP
says nothing about keeps the product's default (the tax id's word, else consumer).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A column CHECK: SQLite adds it with ALTER TABLE ADD COLUMN, no table rebuild.
    op.add_column(
        "customers",
        sa.Column(
            "debt_type",
            sa.String(),
            sa.CheckConstraint(
                "debt_type IN ('consumer', 'business')", name="ck_customers_debt_type_known"
            ),
            nullable=True,
        ),
    )
    # ISO 3166-2 without the country ("RM"), as the holidays package names it.
    op.add_column("customers", sa.Column("subdivision", sa.String(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN on SQLite too (3.35+): the CHECK belongs to the column and goes with
    # it, where a batch rebuild would copy it onto a table without the column.
    op.drop_column("customers", "subdivision")
    op.drop_column("customers", "debt_type")
