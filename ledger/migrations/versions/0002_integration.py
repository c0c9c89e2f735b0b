"""ERP and bank integration: API keys, credit notes, unapplied cash, contact blocks, bank lines.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Written by hand and frozen, like 0001.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _col(name: str, type_: Any, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        _col("id", sa.String()),
        _col("name", sa.String()),
        _col("role", sa.String()),
        _col("secret_sha256", sa.String()),
        _col("created_at", UTC_TIMESTAMP),
        _col("revoked_at", UTC_TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.CheckConstraint(
            "role IN ('erp', 'collector', 'ops', 'admin')", name="ck_api_keys_role_known"
        ),
    )
    op.create_table(
        "credit_notes",
        _col("id", sa.String()),
        _col("invoice_number", sa.String()),
        _col("amount_minor", sa.BigInteger()),
        _col("currency", sa.String()),
        _col("issued_on", sa.Date()),
        _col("reason", sa.String(), nullable=True),
        _col("recorded_at", UTC_TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_credit_notes"),
        sa.ForeignKeyConstraint(
            ["invoice_number"], ["invoices.number"], name="fk_credit_notes_invoice_number_invoices"
        ),
        sa.CheckConstraint("length(currency) = 3", name="ck_credit_notes_currency_iso"),
        sa.CheckConstraint("amount_minor > 0", name="ck_credit_notes_amount_positive"),
    )
    op.create_index("ix_credit_notes_invoice_number", "credit_notes", ["invoice_number"])
    # 'applied': the invoice's workflow has it; 'unapplied': its invoice is not known yet.
    op.add_column(
        "payments", sa.Column("status", sa.String(), nullable=False, server_default="applied")
    )
    op.add_column("payments", sa.Column("source", sa.String(), nullable=True))
    op.create_index("ix_payments_status", "payments", ["status"])
    op.create_table(
        "contact_blocks",
        _col("customer_id", sa.String()),
        _col("channel", sa.String()),
        _col("kind", sa.String()),
        _col("address", sa.String(), nullable=True),
        _col("reason", sa.String()),
        _col("created_at", UTC_TIMESTAMP),
        sa.PrimaryKeyConstraint("customer_id", "channel", name="pk_contact_blocks"),
        sa.CheckConstraint(
            "kind IN ('opted_out', 'address_invalid')", name="ck_contact_blocks_kind_known"
        ),
    )
    op.create_table(
        "bank_lines",
        _col("id", sa.String()),
        _col("source", sa.String()),
        _col("line", sa.Integer()),
        _col("booked_on", sa.Date()),
        _col("amount_minor", sa.BigInteger()),
        _col("currency", sa.String()),
        _col("direction", sa.String()),
        _col("description", sa.String()),
        _col("bank_reference", sa.String(), nullable=True),
        _col("counterparty_name", sa.String(), nullable=True),
        _col("counterparty_tax_id", sa.String(), nullable=True),
        _col("status", sa.String()),
        _col("invoice_number", sa.String(), nullable=True),
        _col("rule", sa.String(), nullable=True),
        _col("reason", sa.String()),
        _col("candidates", JSON_DOCUMENT),
        _col("payment_id", sa.String(), nullable=True),
        _col("imported_at", UTC_TIMESTAMP),
        _col("resolved_at", UTC_TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_bank_lines"),
        sa.CheckConstraint("length(currency) = 3", name="ck_bank_lines_currency_iso"),
        sa.CheckConstraint(
            "status IN ('matched', 'suggested', 'unmatched', 'confirmed', 'dismissed')",
            name="ck_bank_lines_status_known",
        ),
    )
    op.create_index("ix_bank_lines_status", "bank_lines", ["status"])


def downgrade() -> None:
    op.drop_index("ix_bank_lines_status", table_name="bank_lines")
    op.drop_table("bank_lines")
    op.drop_table("contact_blocks")
    op.drop_index("ix_payments_status", table_name="payments")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("source")
        batch.drop_column("status")
    op.drop_index("ix_credit_notes_invoice_number", table_name="credit_notes")
    op.drop_table("credit_notes")
    op.drop_table("api_keys")
