"""Promises, payment plans and disputes as the invoice workflow records them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08

Written by hand and frozen, like the others. Four new tables, nothing existing changes:
``promises`` (one row per promise, payment claim or plan, for the kept rate and the
customer's risk), ``dispute_cases``, ``payment_plans`` and ``plan_instalments``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)


def _col(name: str, type_: Any, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=nullable)


def _known(table: str, column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=f"ck_{table}_{column}_known")


def _currency(table: str) -> sa.CheckConstraint:
    return sa.CheckConstraint("length(currency) = 3", name=f"ck_{table}_currency_iso")


def upgrade() -> None:
    op.create_table(
        "promises",
        _col("id", sa.String()),
        _col("invoice_number", sa.String()),
        _col("customer_id", sa.String()),
        _col("kind", sa.String()),
        _col("source", sa.String()),
        _col("promised_date", sa.Date()),
        _col("first_due", sa.Date(), nullable=True),
        _col("plan_id", sa.String(), nullable=True),
        _col("amount_minor", sa.BigInteger()),
        _col("currency", sa.String()),
        _col("made_at", UTC_TIMESTAMP),
        _col("status", sa.String()),
        _col("settled_at", UTC_TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_promises"),
        _currency("promises"),
        _known("promises", "kind", ("promise", "payment_claim", "plan")),
        _known("promises", "status", ("open", "kept", "broken", "superseded")),
        sa.CheckConstraint("amount_minor > 0", name="ck_promises_amount_positive"),
    )
    op.create_index("ix_promises_invoice_number", "promises", ["invoice_number"])
    op.create_index("ix_promises_customer_id", "promises", ["customer_id"])
    op.create_table(
        "dispute_cases",
        _col("case_id", sa.String()),
        _col("invoice_number", sa.String()),
        _col("customer_id", sa.String()),
        _col("code", sa.String()),
        _col("reason", sa.Text()),
        _col("owner", sa.String()),
        _col("opened_at", UTC_TIMESTAMP),
        _col("deadline", sa.Date()),
        _col("status", sa.String()),
        _col("currency", sa.String()),
        _col("resolved_at", UTC_TIMESTAMP, nullable=True),
        _col("resolution_note", sa.Text(), nullable=True),
        _col("credit_amount_minor", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name="pk_dispute_cases"),
        _currency("dispute_cases"),
        _known("dispute_cases", "status", ("open", "overdue", "upheld", "rejected")),
    )
    op.create_index("ix_dispute_cases_invoice_number", "dispute_cases", ["invoice_number"])
    op.create_index("ix_dispute_cases_owner", "dispute_cases", ["owner"])
    op.create_index("ix_dispute_cases_status", "dispute_cases", ["status"])
    op.create_table(
        "payment_plans",
        _col("id", sa.String()),
        _col("invoice_number", sa.String()),
        _col("customer_id", sa.String()),
        _col("plan_id", sa.String()),
        _col("source", sa.String()),
        _col("task_id", sa.String(), nullable=True),
        _col("currency", sa.String()),
        _col("total_minor", sa.BigInteger()),
        _col("status", sa.String()),
        _col("proposed_at", UTC_TIMESTAMP),
        _col("agreed_at", UTC_TIMESTAMP, nullable=True),
        _col("settled_at", UTC_TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_payment_plans"),
        _currency("payment_plans"),
        _known(
            "payment_plans",
            "status",
            ("proposed", "active", "completed", "broken", "superseded"),
        ),
        sa.CheckConstraint("total_minor > 0", name="ck_payment_plans_total_positive"),
    )
    op.create_index("ix_payment_plans_invoice_number", "payment_plans", ["invoice_number"])
    op.create_index("ix_payment_plans_status", "payment_plans", ["status"])
    op.create_table(
        "plan_instalments",
        _col("plan_id", sa.String()),
        _col("number", sa.Integer()),
        _col("due_on", sa.Date()),
        _col("amount_minor", sa.BigInteger()),
        _col("status", sa.String()),
        _col("paid_at", UTC_TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("plan_id", "number", name="pk_plan_instalments"),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["payment_plans.id"], name="fk_plan_instalments_plan_id_payment_plans"
        ),
        _known("plan_instalments", "status", ("due", "paid", "missed")),
        sa.CheckConstraint("amount_minor > 0", name="ck_plan_instalments_amount_positive"),
    )


def downgrade() -> None:
    op.drop_table("plan_instalments")
    op.drop_index("ix_payment_plans_status", table_name="payment_plans")
    op.drop_index("ix_payment_plans_invoice_number", table_name="payment_plans")
    op.drop_table("payment_plans")
    op.drop_index("ix_dispute_cases_status", table_name="dispute_cases")
    op.drop_index("ix_dispute_cases_owner", table_name="dispute_cases")
    op.drop_index("ix_dispute_cases_invoice_number", table_name="dispute_cases")
    op.drop_table("dispute_cases")
    op.drop_index("ix_promises_customer_id", table_name="promises")
    op.drop_index("ix_promises_invoice_number", table_name="promises")
    op.drop_table("promises")
