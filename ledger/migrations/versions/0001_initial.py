"""The initial ledger: customers, invoices, payments, bitácora, tasks, handoffs, outbox, credits.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written by hand and frozen: it spells out every type and constraint name instead of importing
the models, so later changes to the models can never rewrite history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)  # timestamptz on PostgreSQL, DATETIME on SQLite
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SERIAL_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY_MESSAGE = "interactions is append-only"


def _col(name: str, type_: Any, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=nullable)


def _currency_check(table: str) -> sa.CheckConstraint:
    return sa.CheckConstraint("length(currency) = 3", name=f"ck_{table}_currency_iso")


def upgrade() -> None:
    op.create_table(
        "customers",
        _col("id", sa.String()),
        _col("name", sa.String()),
        _col("email", sa.String(), nullable=True),
        _col("phone", sa.String(), nullable=True),
        _col("whatsapp", sa.String(), nullable=True),
        _col("country", sa.String()),
        _col("timezone", sa.String()),
        _col("locale", sa.String()),
        _col("segment", sa.String(), nullable=True),
        _col("policy_override", sa.String(), nullable=True),
        _col("tax_id", sa.String(), nullable=True),
        _col("created_at", UTC_TIMESTAMP),
        _col("updated_at", UTC_TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.CheckConstraint("length(country) = 2", name="ck_customers_country_iso"),
    )
    op.create_table(
        "invoices",
        _col("number", sa.String()),
        _col("customer_id", sa.String()),
        _col("currency", sa.String()),
        _col("amount_minor", sa.BigInteger()),
        _col("amount_due_minor", sa.BigInteger()),
        _col("issued_on", sa.Date()),
        _col("due_on", sa.Date()),
        _col("stage", sa.String()),
        _col("segment", sa.String()),
        _col("policy_name", sa.String()),
        _col("policy_version", sa.Integer()),
        _col("workflow_id", sa.String()),
        _col("next_action", sa.String(), nullable=True),
        _col("next_action_at", UTC_TIMESTAMP, nullable=True),
        _col("closed_reason", sa.String(), nullable=True),
        _col("created_at", UTC_TIMESTAMP),
        _col("updated_at", UTC_TIMESTAMP),
        sa.PrimaryKeyConstraint("number", name="pk_invoices"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_invoices_customer_id_customers"
        ),
        _currency_check("invoices"),
        sa.CheckConstraint("amount_minor >= 0", name="ck_invoices_amount_not_negative"),
        sa.CheckConstraint("amount_due_minor >= 0", name="ck_invoices_amount_due_not_negative"),
    )
    op.create_index("ix_invoices_customer_id", "invoices", ["customer_id"])
    op.create_index("ix_invoices_stage", "invoices", ["stage"])

    op.create_table(
        "payments",
        _col("id", sa.String()),
        _col("invoice_number", sa.String()),
        _col("customer_id", sa.String(), nullable=True),
        _col("amount_minor", sa.BigInteger()),
        _col("currency", sa.String()),
        _col("paid_at", UTC_TIMESTAMP),
        _col("reference", sa.String(), nullable=True),
        _col("recorded_at", UTC_TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
        _currency_check("payments"),
        sa.CheckConstraint("amount_minor > 0", name="ck_payments_amount_positive"),
    )
    op.create_index("ix_payments_invoice_number", "payments", ["invoice_number"])

    op.create_table(
        "interactions",
        sa.Column("id", SERIAL_ID, autoincrement=True, nullable=False),
        _col("event_key", sa.String()),
        _col("occurred_at", UTC_TIMESTAMP),
        _col("invoice_number", sa.String()),
        _col("customer_id", sa.String()),
        _col("workflow_id", sa.String()),
        _col("kind", sa.String()),
        _col("step_id", sa.String(), nullable=True),
        _col("channel", sa.String(), nullable=True),
        _col("template", sa.String(), nullable=True),
        _col("status", sa.String(), nullable=True),
        _col("detail", JSON_DOCUMENT),
        _col("recorded_at", UTC_TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_interactions"),
        sa.UniqueConstraint("event_key", name="uq_interactions_event_key"),
    )
    op.create_index("ix_interactions_invoice_number", "interactions", ["invoice_number"])
    op.create_index("ix_interactions_customer_id", "interactions", ["customer_id"])
    _forbid_changes_to_interactions()

    op.create_table(
        "tasks",
        _col("id", sa.String()),
        _col("invoice_number", sa.String()),
        _col("customer_id", sa.String()),
        _col("workflow_id", sa.String()),
        _col("queue", sa.String()),
        _col("kind", sa.String()),
        _col("status", sa.String()),
        _col("created_at", UTC_TIMESTAMP),
        _col("sla_due_at", UTC_TIMESTAMP),
        _col("completed_at", UTC_TIMESTAMP, nullable=True),
        _col("outcome", sa.String(), nullable=True),
        _col("detail", JSON_DOCUMENT),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        sa.CheckConstraint(
            "status IN ('open', 'completed', 'expired')", name="ck_tasks_status_known"
        ),
    )
    op.create_index("ix_tasks_status", "tasks", ["status"])

    op.create_table(
        "handoffs",
        _col("id", sa.String()),
        _col("invoice_number", sa.String()),
        _col("customer_id", sa.String()),
        _col("agency", sa.String()),
        _col("amount_due_minor", sa.BigInteger()),
        _col("currency", sa.String()),
        _col("created_at", UTC_TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_handoffs"),
        sa.UniqueConstraint("invoice_number", name="uq_handoffs_invoice_number"),
        _currency_check("handoffs"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", SERIAL_ID, autoincrement=True, nullable=False),
        _col("idempotency_key", sa.String()),
        _col("invoice_number", sa.String()),
        _col("customer_id", sa.String()),
        _col("workflow_id", sa.String()),
        _col("step_id", sa.String()),
        _col("channel", sa.String()),
        _col("provider", sa.String(), nullable=True),
        _col("template", sa.String()),
        _col("locale", sa.String()),
        _col("recipient", sa.String()),
        _col("subject", sa.String(), nullable=True),
        _col("body", sa.Text()),
        _col("status", sa.String()),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        _col("provider_message_id", sa.String(), nullable=True),
        _col("error_code", sa.String(), nullable=True),
        _col("error", sa.Text(), nullable=True),
        _col("scheduled_local", sa.String(), nullable=True),
        _col("created_at", UTC_TIMESTAMP),
        _col("sent_at", UTC_TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name="ck_outbox_status_known"
        ),
    )
    op.create_index("ix_outbox_invoice_number", "outbox", ["invoice_number"])

    op.create_table(
        "customer_credits",
        _col("id", sa.String()),
        _col("customer_id", sa.String()),
        _col("invoice_number", sa.String()),
        _col("amount_minor", sa.BigInteger()),
        _col("currency", sa.String()),
        _col("created_at", UTC_TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_customer_credits"),
        _currency_check("customer_credits"),
    )
    op.create_index("ix_customer_credits_customer_id", "customer_credits", ["customer_id"])


def _forbid_changes_to_interactions() -> None:
    """The bitácora is evidence for a bad-debt write-off: the database itself refuses edits."""
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION interactions_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}: % refused', TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER interactions_no_update_or_delete BEFORE UPDATE OR DELETE"
            " ON interactions FOR EACH ROW EXECUTE FUNCTION interactions_append_only()"
        )
        # TRUNCATE skips row triggers, so it needs a statement trigger of its own.
        op.execute(
            "CREATE TRIGGER interactions_no_truncate BEFORE TRUNCATE"
            " ON interactions FOR EACH STATEMENT EXECUTE FUNCTION interactions_append_only()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER interactions_no_{operation.lower()} BEFORE {operation}"
            f" ON interactions BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}:"
            f" {operation} refused'); END"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER interactions_no_truncate ON interactions")
        op.execute("DROP TRIGGER interactions_no_update_or_delete ON interactions")
        op.execute("DROP FUNCTION interactions_append_only()")
    else:
        op.execute("DROP TRIGGER interactions_no_update")
        op.execute("DROP TRIGGER interactions_no_delete")
    for table in (
        "customer_credits",
        "outbox",
        "handoffs",
        "tasks",
        "interactions",
        "payments",
        "invoices",
        "customers",
    ):
        op.drop_table(table)
