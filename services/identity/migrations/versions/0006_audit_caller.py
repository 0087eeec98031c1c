"""The audit log names the calling service (billing_common.service_auth) beside the person.

Revision ID: 0006_audit_caller
Revises: 0005_reset_requests
Create Date: 2026-12-04

Only adds a nullable column: rows written before it have no caller (NULL), and a running older
version keeps writing without one until its pods are replaced.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_audit_caller"
down_revision = "0005_reset_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("caller", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("caller")
