"""Quotes negotiated with a rep: quotes, their versions, lines and comment thread.

Revision ID: 0004_quotes
Revises: 0003_invoicing_on_terms
Create Date: 2026-12-04

Their numbers (QT-0042) come from the gapless counter table 0003 creates
(invoice_number_series, billing_common.invoicing.numbering), in the series "QT".
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_quotes"
down_revision = "0003_invoicing_on_terms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quotes",
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("rep_user_id", sa.String(64), nullable=False),
        sa.Column("rep_email", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_quotes"),
    )
    op.create_index("ix_quotes_account_id", "quotes", ["account_id"])
    op.create_table(
        "quote_versions",
        sa.Column("quote_number", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("terms", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sent_on", sa.Date()),
        sa.Column("decided_on", sa.Date()),
        sa.Column("decline_reason", sa.Text(), nullable=False),
        sa.Column("po_number", sa.String(64)),
        sa.CheckConstraint("version >= 1", name="ck_quote_versions_version"),
        sa.CheckConstraint("status IN ('draft', 'open', 'accepted', 'declined', 'superseded')",
                           name="ck_quote_versions_status"),
        sa.ForeignKeyConstraint(["quote_number"], ["quotes.number"], name="fk_quote_versions_quote_number_quotes"),
        sa.PrimaryKeyConstraint("quote_number", "version", name="pk_quote_versions"),
    )
    op.create_table(
        "quote_lines",
        sa.Column("quote_number", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_bp", sa.Integer(), nullable=False),
        sa.Column("plan_code", sa.String(64)),
        sa.CheckConstraint("kind IN ('plan', 'custom')", name="ck_quote_lines_kind"),
        sa.CheckConstraint("quantity >= 1", name="ck_quote_lines_quantity"),
        sa.CheckConstraint("unit_price_minor >= 0", name="ck_quote_lines_unit_price_minor"),
        sa.CheckConstraint("discount_bp BETWEEN 0 AND 10000", name="ck_quote_lines_discount_bp"),
        sa.ForeignKeyConstraint(["quote_number", "version"], ["quote_versions.quote_number", "quote_versions.version"],
                                name="fk_quote_lines_version"),
        sa.PrimaryKeyConstraint("quote_number", "version", "position", name="pk_quote_lines"),
    )
    op.create_table(
        "quote_comments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("quote_number", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(8), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("author IN ('rep', 'contact')", name="ck_quote_comments_author"),
        sa.CheckConstraint("kind IN ('comment', 'change_request')", name="ck_quote_comments_kind"),
        sa.ForeignKeyConstraint(["quote_number"], ["quotes.number"], name="fk_quote_comments_quote_number_quotes"),
        sa.PrimaryKeyConstraint("id", name="pk_quote_comments"),
    )
    op.create_index("ix_quote_comments_quote_number", "quote_comments", ["quote_number"])


def downgrade() -> None:
    op.drop_index("ix_quote_comments_quote_number", table_name="quote_comments")
    op.drop_table("quote_comments")
    op.drop_table("quote_lines")
    op.drop_table("quote_versions")
    op.drop_index("ix_quotes_account_id", table_name="quotes")
    op.drop_table("quotes")
