"""plans, plan prices, subscriptions and the mail outbox

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_plans"),
    )
    op.create_table(
        "plan_prices",
        sa.Column("plan_code", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("interval", sa.String(16), nullable=False),
        sa.Column("unit_amount_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("interval IN ('monthly', 'annual')", name="ck_plan_prices_interval"),
        sa.CheckConstraint("unit_amount_minor >= 0", name="ck_plan_prices_unit_amount_minor"),
        sa.ForeignKeyConstraint(["plan_code"], ["plans.code"], name="fk_plan_prices_plan_code_plans"),
        sa.PrimaryKeyConstraint("plan_code", "currency", "interval", name="pk_plan_prices"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("plan_code", sa.String(32), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("interval", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("current_period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.CheckConstraint("seats >= 1", name="ck_subscriptions_seats"),
        sa.CheckConstraint("interval IN ('monthly', 'annual')", name="ck_subscriptions_interval"),
        sa.CheckConstraint("status IN ('active', 'past_due', 'canceled')", name="ck_subscriptions_status"),
        sa.CheckConstraint("current_period_end > current_period_start", name="ck_subscriptions_period"),
        sa.ForeignKeyConstraint(
            ["plan_code", "currency", "interval"],
            ["plan_prices.plan_code", "plan_prices.currency", "plan_prices.interval"],
            name="fk_subscriptions_price_plan_prices",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
    )
    op.create_index("ix_subscriptions_account_id", "subscriptions", ["account_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("to_addrs", sa.Text(), nullable=False),
        sa.Column("reply_to", sa.String(320)),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("sent_at", sa.Float()),
        sa.Column("failed_at", sa.Float()),
        sa.Column("last_error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("message_id", name="uq_outbox_message_id"),
    )


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_index("ix_subscriptions_account_id", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_table("plan_prices")
    op.drop_table("plans")
