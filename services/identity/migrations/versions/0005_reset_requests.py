"""Accepted Reset/Create requests wait in the database, not in a process's memory.

Revision ID: 0005_reset_requests
Revises: 0004_session_generation
Create Date: 2026-12-04

The lookup and mail behind a reset request ran on an unbounded in-memory queue: a flood grew
it without bound and a restart lost what was queued though the user was told "sent".
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_reset_requests"
down_revision = "0004_session_generation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reset_requests",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("login", sa.String(254), nullable=False),
        sa.Column("portal", sa.String(32), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reset_requests")),
    )
    op.create_index(op.f("ix_reset_requests_requested_at"), "reset_requests", ["requested_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_reset_requests_requested_at"), table_name="reset_requests")
    op.drop_table("reset_requests")
