"""notification channels, their delivery log, fired budget alerts and approval requests

Revision ID: 0008_notify_approvals
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_notify_approvals"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_channels",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notification_deliveries") as batch:
        batch.create_index("ix_notification_deliveries_channel_id", ["channel_id"], unique=False)
        batch.create_index("ix_notification_deliveries_dedupe_key", ["dedupe_key"], unique=False)
    op.create_table(
        "budget_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("budget_id", sa.String(length=64), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=9, scale=4), nullable=False),
        sa.Column("spend", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("amount", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("projected", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("fired_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("budget_id", "period_start", "kind", "threshold"),
    )
    with op.batch_alter_table("budget_alerts") as batch:
        batch.create_index("ix_budget_alerts_budget_id", ["budget_id"], unique=False)
        batch.create_index("ix_budget_alerts_fired_at", ["fired_at"], unique=False)
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("budget_id", sa.String(length=64), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("tool", sa.String(length=128), nullable=True),
        sa.Column("requested_by", sa.String(length=256), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_amount", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=256), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("applied_amount", sa.Numeric(precision=24, scale=8), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("approval_requests") as batch:
        batch.create_index("ix_approval_requests_status", ["status"], unique=False)
        batch.create_index("ix_approval_requests_budget_id", ["budget_id"], unique=False)
        batch.create_index("ix_approval_requests_run_id", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_table("approval_requests")
    op.drop_table("budget_alerts")
    op.drop_table("notification_deliveries")
    op.drop_table("notification_channels")
