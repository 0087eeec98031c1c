"""the billing run: a subscription's renewal charge under way, its dunning state, and the
indexes of the run's claims

Revision ID: 0004_billing_run
Revises: 0003_catalogue_payments_invoices
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_billing_run"
down_revision = "0003_catalogue_payments_invoices"
branch_labels = None
depends_on = None

COLUMNS = ("renewal_payment_id", "dunning_invoice_id", "dunning_failed_at", "dunning_retries", "next_retry_at",
           "dunning_decline_code")


def upgrade() -> None:
    dtz = sa.DateTime(timezone=True)
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("renewal_payment_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("dunning_invoice_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("dunning_failed_at", dtz, nullable=True))
        batch.add_column(sa.Column("dunning_retries", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.add_column(sa.Column("next_retry_at", dtz, nullable=True))
        batch.add_column(sa.Column("dunning_decline_code", sa.String(64), nullable=True))
    op.create_index("ix_subscriptions_status_current_period_end", "subscriptions", ["status", "current_period_end"])
    op.create_index("ix_subscriptions_status_next_retry_at", "subscriptions", ["status", "next_retry_at"])


def downgrade() -> None:
    op.drop_index("ix_subscriptions_status_next_retry_at", "subscriptions")
    op.drop_index("ix_subscriptions_status_current_period_end", "subscriptions")
    with op.batch_alter_table("subscriptions") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
