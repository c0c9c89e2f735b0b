"""The collector workspace and the debtor portal.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

Written by hand and frozen, like the others. ``users`` (password hash, TOTP, lock-out),
``payment_links`` (the portal's pay button), and three task columns: who works it, since
when, and until when it is snoozed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _col(name: str, type_: Any, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=nullable)


def _known(table: str, column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=f"ck_{table}_{column}_known")


def upgrade() -> None:
    with op.batch_alter_table("tasks") as tasks:
        tasks.add_column(_col("assignee", sa.String(), nullable=True))
        tasks.add_column(_col("claimed_at", UTC_TIMESTAMP, nullable=True))
        tasks.add_column(_col("snoozed_until", UTC_TIMESTAMP, nullable=True))
    op.create_index("ix_tasks_assignee", "tasks", ["assignee"])
    op.create_table(
        "users",
        _col("id", sa.String()),
        _col("email", sa.String()),
        _col("name", sa.String()),
        _col("role", sa.String()),
        _col("password_hash", sa.String()),
        _col("totp_secret", sa.String()),
        _col("totp_confirmed_at", UTC_TIMESTAMP, nullable=True),
        _col("last_totp_step", sa.BigInteger(), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"),
        _col("locked_until", UTC_TIMESTAMP, nullable=True),
        sa.Column("language", sa.String(), nullable=False, server_default="es"),
        _col("created_at", UTC_TIMESTAMP),
        _col("disabled_at", UTC_TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        _known("users", "role", ("collector", "ops", "admin")),
    )
    op.create_table(
        "payment_links",
        _col("id", sa.String()),
        _col("customer_id", sa.String()),
        _col("invoice_numbers", JSON_DOCUMENT),
        _col("provider", sa.String()),
        _col("provider_reference", sa.String(), nullable=True),
        _col("url", sa.Text(), nullable=True),
        _col("amount_minor", sa.BigInteger()),
        _col("currency", sa.String()),
        _col("status", sa.String()),
        _col("created_at", UTC_TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_payment_links"),
        sa.CheckConstraint("length(currency) = 3", name="ck_payment_links_currency_iso"),
        _known("payment_links", "status", ("open", "paid", "expired")),
    )
    op.create_index("ix_payment_links_customer_id", "payment_links", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_payment_links_customer_id", table_name="payment_links")
    op.drop_table("payment_links")
    op.drop_table("users")
    op.drop_index("ix_tasks_assignee", table_name="tasks")
    with op.batch_alter_table("tasks") as tasks:
        tasks.drop_column("snoozed_until")
        tasks.drop_column("claimed_at")
        tasks.drop_column("assignee")
