"""the outbox's attachment reference (an invoice's PDF, rendered when the mail is sent) and
deferred mails (addressed when sent: identity was down when they were written)

Revision ID: 0005_outbox_attachments
Revises: 0004_billing_run
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_outbox_attachments"
down_revision = "0004_billing_run"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attachment", sa.String(300), nullable=True))
        batch.add_column(sa.Column("deferred", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("deferred")
        batch.drop_column("attachment")
