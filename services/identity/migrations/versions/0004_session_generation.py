"""users.session_generation: the generation every session and hand-off ticket is checked against.

Revision ID: 0004_session_generation
Revises: 0003_outbox_datetimes
Create Date: 2026-12-04

Existing users start at 0. Sessions written before this release carry no generation, so they
are refused once: everybody signs in again after the roll-out (deploy/README.md).
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_session_generation"
down_revision = "0003_outbox_datetimes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_generation")
