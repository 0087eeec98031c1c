"""members' change requests, decided by a billing contact

Revision ID: 0006_change_requests
Revises: 0005_outbox_attachments
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from billing_common.db import NAMING

revision = "0006_change_requests"
down_revision = "0005_outbox_attachments"
branch_labels = None
depends_on = None


def _table() -> sa.Table:
    # Frozen here (not imported from orm): a later change of the ORM must not change this step.
    m = sa.MetaData(naming_convention=NAMING)
    c, dtz = sa.Column, sa.DateTime(timezone=True)
    return sa.Table(
        "change_requests", m,
        c("id", sa.String(36), primary_key=True), c("account_id", sa.String(64), nullable=False),
        c("subscription_id", sa.String(36), nullable=False), c("requested_by", sa.String(64), nullable=False),
        c("requester_name", sa.String(100), nullable=False), c("requester_email", sa.String(254), nullable=False),
        c("requester_locale", sa.String(16), nullable=False), c("plan_code", sa.String(32), nullable=False),
        c("seats", sa.Integer, nullable=False), c("interval", sa.String(16), nullable=False),
        c("note", sa.String(500), nullable=False), c("status", sa.String(16), nullable=False),
        c("created_at", dtz, nullable=False), c("decided_at", dtz, nullable=True),
        c("decided_by", sa.String(64), nullable=True),
        c("decline_reason", sa.String(500), nullable=False, server_default=sa.text("''")),
        c("approval_key", sa.String(255), nullable=True), c("invoice_id", sa.String(36), nullable=True),
        c("scheduled", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.CheckConstraint("status IN ('pending', 'approved', 'declined', 'withdrawn')", name="status"),
        sa.CheckConstraint("interval IN ('monthly', 'annual')", name="interval"),
        sa.CheckConstraint("seats >= 1", name="seats"),
        sa.Index("ix_change_requests_account_id_created_at", "account_id", "created_at"),
    )


def upgrade() -> None:
    _table().create(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_change_requests_account_id_created_at", "change_requests")
    op.drop_table("change_requests")
