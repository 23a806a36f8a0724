"""agent registry, agent runs and their steps

Revision ID: 0009_agents
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_agents"
down_revision = "0002"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=24, scale=8)


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=256), nullable=False),
        sa.Column("team", sa.String(length=128), nullable=True),
        sa.Column("use_case_id", sa.String(length=64), nullable=True),
        sa.Column("autonomy_level", sa.String(length=16), nullable=False),
        sa.Column("allowed_tools", sa.JSON(), nullable=False),
        sa.Column("approval_tools", sa.JSON(), nullable=False),
        sa.Column("external_actions", sa.Boolean(), nullable=False),
        sa.Column("run_frequency", sa.String(length=64), nullable=True),
        sa.Column("budget_per_run", MONEY, nullable=True),
        sa.Column("budget_per_period", MONEY, nullable=True),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("max_runs_per_period", sa.Integer(), nullable=True),
        sa.Column("max_steps", sa.Integer(), nullable=True),
        sa.Column("max_tool_calls", sa.Integer(), nullable=True),
        sa.Column("max_context_tokens", sa.Integer(), nullable=True),
        sa.Column("max_runtime_s", sa.Integer(), nullable=True),
        sa.Column("loop_repeats", sa.Integer(), nullable=False),
        sa.Column("rollback_webhook", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "agent_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_by", sa.String(length=256), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("tool_calls", sa.Integer(), nullable=False),
        sa.Column("cost", MONEY, nullable=False),
        sa.Column("peak_context_tokens", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("agent_runs") as batch:
        batch.create_index("ix_agent_runs_agent_id", ["agent_id"], unique=False)
        batch.create_index("ix_agent_runs_started_at", ["started_at"], unique=False)
    op.create_table(
        "agent_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("tool", sa.String(length=128), nullable=True),
        sa.Column("arguments", sa.JSON(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.Column("model", sa.String(length=256), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("context_tokens", sa.Integer(), nullable=False),
        sa.Column("cost", MONEY, nullable=False),
        sa.Column("cost_source", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("compensation", sa.JSON(), nullable=True),
        sa.Column("compensated_at", sa.DateTime(), nullable=True),
        sa.Column("ledger_event_id", sa.String(length=64), nullable=True),
        sa.Column("fed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "seq"),
    )
    with op.batch_alter_table("agent_steps") as batch:
        batch.create_index("ix_agent_steps_run_id", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_table("agent_steps")
    op.drop_table("agent_runs")
    op.drop_table("agents")
