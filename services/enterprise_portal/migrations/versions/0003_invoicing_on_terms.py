"""Invoicing on terms: invoice lines and PO flags, receipts, credits, card payments, purchase
orders, the gapless invoice counter, and the indexes that page an account's invoices.

Revision ID: 0003_invoicing_on_terms
Revises: 0002_outbox_datetimes
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_invoicing_on_terms"
down_revision = "0002_outbox_datetimes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("po_problem", sa.String(16)))
    op.create_index("ix_invoices_account_id_issued_on_number", "invoices", ["account_id", "issued_on", "number"])
    op.create_index("ix_invoices_account_id_po_number", "invoices", ["account_id", "po_number"])
    op.create_table(
        "invoice_lines",
        sa.Column("invoice_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_bp", sa.Integer(), nullable=False),
        sa.Column("plan_code", sa.String(64)),
        sa.CheckConstraint("quantity > 0", name="ck_invoice_lines_quantity"),
        sa.CheckConstraint("discount_bp BETWEEN 0 AND 10000", name="ck_invoice_lines_discount_bp"),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name="fk_invoice_lines_invoice_id_invoices"),
        sa.PrimaryKeyConstraint("invoice_id", "position", name="pk_invoice_lines"),
    )
    op.create_table(
        "receipts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name="ck_receipts_amount_minor"),
        sa.CheckConstraint("method IN ('card', 'bank_transfer', 'check', 'ach')", name="ck_receipts_method"),
        sa.PrimaryKeyConstraint("id", name="pk_receipts"),
    )
    op.create_index("ix_receipts_account_id_received_at", "receipts", ["account_id", "received_at"])
    op.create_table(
        "credits",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("receipt_id", sa.String(36)),
        sa.CheckConstraint("amount_minor > 0", name="ck_credits_amount_minor"),
        sa.ForeignKeyConstraint(["receipt_id"], ["receipts.id"], name="fk_credits_receipt_id_receipts"),
        sa.PrimaryKeyConstraint("id", name="pk_credits"),
    )
    op.create_index("ix_credits_account_id", "credits", ["account_id"])
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("receipt_id", sa.String(36)))
        batch.add_column(sa.Column("credit_id", sa.String(36)))
        batch.create_foreign_key("fk_payments_receipt_id_receipts", "receipts", ["receipt_id"], ["id"])
        batch.create_foreign_key("fk_payments_credit_id_credits", "credits", ["credit_id"], ["id"])
    op.create_index("ix_payments_credit_id", "payments", ["credit_id"])
    op.create_index("ix_payments_received_at", "payments", ["received_at"])
    op.create_table(
        "card_payments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("gateway_key", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("allocation", sa.Text(), nullable=False),
        sa.Column("payer_email", sa.String(320), nullable=False),
        sa.Column("payer_user_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True)),
        sa.Column("charge_id", sa.String(255)),
        sa.Column("decline_code", sa.String(64)),
        sa.Column("receipt_id", sa.String(36)),
        sa.CheckConstraint("amount_minor > 0", name="ck_card_payments_amount_minor"),
        sa.CheckConstraint("status IN ('pending', 'succeeded', 'declined', 'unknown', 'failed')",
                           name="ck_card_payments_status"),
        sa.ForeignKeyConstraint(["receipt_id"], ["receipts.id"], name="fk_card_payments_receipt_id_receipts"),
        sa.PrimaryKeyConstraint("id", name="pk_card_payments"),
        sa.UniqueConstraint("gateway_key", name="uq_card_payments_gateway_key"),
        sa.UniqueConstraint("account_id", "idempotency_key", name="uq_card_payments_account_id_idempotency_key"),
    )
    op.create_index("ix_card_payments_status", "card_payments", ["status"])
    op.create_table(
        "purchase_orders",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("notify_emails", sa.Text(), nullable=False),
        sa.Column("expiry_notice_sent_at", sa.DateTime(timezone=True)),
        sa.Column("usage_notice_sent_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("amount_minor > 0", name="ck_purchase_orders_amount_minor"),
        sa.CheckConstraint("valid_to >= valid_from", name="ck_purchase_orders_valid_to"),
        sa.PrimaryKeyConstraint("id", name="pk_purchase_orders"),
        sa.UniqueConstraint("account_id", "number", name="uq_purchase_orders_account_id_number"),
    )
    op.create_table(
        "invoice_number_series",
        sa.Column("series", sa.String(32), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("last_number > 0", name="ck_invoice_number_series_last_number_positive"),
        sa.PrimaryKeyConstraint("series", name="pk_invoice_number_series"),
    )


def downgrade() -> None:
    op.drop_table("invoice_number_series")
    op.drop_table("purchase_orders")
    op.drop_index("ix_card_payments_status", table_name="card_payments")
    op.drop_table("card_payments")
    op.drop_index("ix_payments_received_at", table_name="payments")
    op.drop_index("ix_payments_credit_id", table_name="payments")
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint("fk_payments_credit_id_credits", type_="foreignkey")
        batch.drop_constraint("fk_payments_receipt_id_receipts", type_="foreignkey")
        batch.drop_column("credit_id")
        batch.drop_column("receipt_id")
    op.drop_index("ix_credits_account_id", table_name="credits")
    op.drop_table("credits")
    op.drop_index("ix_receipts_account_id_received_at", table_name="receipts")
    op.drop_table("receipts")
    op.drop_table("invoice_lines")
    op.drop_index("ix_invoices_account_id_po_number", table_name="invoices")
    op.drop_index("ix_invoices_account_id_issued_on_number", table_name="invoices")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("po_problem")
