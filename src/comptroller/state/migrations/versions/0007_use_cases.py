"""use cases: the intake registry of AI use cases and their reviews

Revision ID: 0007_use_cases
Revises: 0006_rbac_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_use_cases"
down_revision = "0006_rbac_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "use_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=256), nullable=False),
        sa.Column("team", sa.String(length=128), nullable=False),
        sa.Column("users", sa.Text(), nullable=False),
        sa.Column("data_classes", sa.JSON(), nullable=False),
        sa.Column("vendor", sa.String(length=128), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("expected_monthly_value", sa.Numeric(16, 2), nullable=False),
        sa.Column("expected_monthly_cost", sa.Numeric(16, 2), nullable=False),
        sa.Column("customer_impact", sa.String(length=16), nullable=False),
        sa.Column("autonomy", sa.String(length=16), nullable=False),
        sa.Column("external_actions", sa.Boolean(), nullable=False),
        sa.Column("success_metric", sa.Text(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("risk_tier", sa.String(length=16), nullable=False),
        sa.Column("risk_reasons", sa.JSON(), nullable=False),
        sa.Column("review_round", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_by", sa.String(length=128), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_use_cases_team", "use_cases", ["team"])
    op.create_index("ix_use_cases_status", "use_cases", ["status"])
    op.create_table(
        "use_case_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("use_case_id", sa.Integer(), nullable=False),
        sa.Column("review_round", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["use_case_id"], ["use_cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("use_case_id", "review_round", "reviewer"),
    )
    op.create_index("ix_use_case_reviews_use_case_id", "use_case_reviews", ["use_case_id"])


def downgrade() -> None:
    op.drop_index("ix_use_case_reviews_use_case_id", table_name="use_case_reviews")
    op.drop_table("use_case_reviews")
    op.drop_index("ix_use_cases_status", table_name="use_cases")
    op.drop_index("ix_use_cases_team", table_name="use_cases")
    op.drop_table("use_cases")
