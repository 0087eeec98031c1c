"""the outbox's attachment reference (invoice PDFs, rendered when the mail is sent) and deferred
mails (addressed when sent, from identity's contacts and reps); a PO no longer keeps the
addresses its notices went to (identity's billing contacts and reps are asked instead)

Revision ID: 0005_outbox_deferred_mails
Revises: 0004_quotes
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_outbox_deferred_mails"
down_revision = "0004_quotes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attachment", sa.String(300), nullable=True))
        batch.add_column(sa.Column("deferred", sa.Text(), nullable=True))
    with op.batch_alter_table("purchase_orders") as batch:
        batch.drop_column("notify_emails")


def downgrade() -> None:
    with op.batch_alter_table("purchase_orders") as batch:
        batch.add_column(sa.Column("notify_emails", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("deferred")
        batch.drop_column("attachment")
