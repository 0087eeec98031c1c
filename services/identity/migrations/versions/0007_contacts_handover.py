"""Billing contacts of enterprise accounts: the primary flag, the last sign-in, handovers.

Revision ID: 0007_contacts_handover
Revises: 0006_audit_caller
Create Date: 2026-12-04

Only additions: memberships.is_primary (false for every existing row: no account has a primary
contact until one is chosen), users.last_sign_in_at (NULL: never seen since this release) and the
handovers table. A running older version ignores all three.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_contacts_handover"
down_revision = "0006_audit_caller"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("is_primary", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "handovers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("proposer_id", sa.String(36), nullable=False),
        sa.Column("replaced_user_id", sa.String(36), nullable=False),
        sa.Column("new_login", sa.String(254), nullable=False),
        sa.Column("new_email", sa.String(254), nullable=False),
        sa.Column("new_name", sa.String(200), nullable=False),
        sa.Column("new_locale", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(36), nullable=True),
        sa.Column("new_user_id", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE",
                                name=op.f("fk_handovers_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handovers")),
    )
    op.create_index("ix_handovers_account_id_status", "handovers", ["account_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_handovers_account_id_status", table_name="handovers")
    op.drop_table("handovers")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("last_sign_in_at")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("is_primary")
