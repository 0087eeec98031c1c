"""enterprise_portal's tables (SQLAlchemy Core). Alembic's migrations must match this
metadata; tests/integration/enterprise_portal/test_migrations_and_bootstrap.py compares them."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from billing_common.db import NAMING
from billing_common.invoicing.numbering import invoice_number_table
from billing_common.outbox import outbox_table

metadata = MetaData(naming_convention=NAMING)

invoices = Table(
    "invoices",
    metadata,
    Column("id", String(36), primary_key=True),
    # identity's account id: another service's key, so no foreign key.
    Column("account_id", String(64), nullable=False),
    # Printed on the invoice and quoted by customers, so unique across accounts.
    Column("number", String(32), nullable=False, unique=True),
    Column("currency", String(3), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("terms", String(16), nullable=False),
    Column("po_number", String(64)),
    Column("status", String(8), nullable=False),
    CheckConstraint("total_minor >= 0", name="total_minor"),
    CheckConstraint("status IN ('open', 'paid', 'void')", name="status"),
    CheckConstraint("due_on >= issued_on", name="due_on"),
    Index("ix_invoices_account_id_status", "account_id", "status"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("invoice_id", String(36), ForeignKey("invoices.id"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("amount_minor > 0", name="amount_minor"),
    Index("ix_payments_invoice_id", "invoice_id"),
)

outbox = outbox_table(metadata)

# Gapless counters (billing_common.invoicing.numbering), one row per series: quotes count in
# the series "QT" (QT-0042); enterprise invoices may share the table with series of their own.
number_series = invoice_number_table(metadata)

quotes = Table(
    "quotes",
    metadata,
    # QT-0042: printed, quoted by customers, unique across accounts.
    Column("number", String(16), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("rep_user_id", String(64), nullable=False),
    Column("rep_email", String(320), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_quotes_account_id", "account_id"),
)

quote_versions = Table(
    "quote_versions",
    metadata,
    Column("quote_number", String(16), ForeignKey("quotes.number"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("valid_until", Date, nullable=False),
    Column("terms", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("sent_on", Date),
    Column("decided_on", Date),
    Column("decline_reason", Text, nullable=False),
    Column("po_number", String(64)),
    CheckConstraint("version >= 1", name="version"),
    # expired is never stored: it is an open version past its validity date.
    CheckConstraint("status IN ('draft', 'open', 'accepted', 'declined', 'superseded')", name="status"),
)

quote_lines = Table(
    "quote_lines",
    metadata,
    Column("quote_number", String(16), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(8), nullable=False),
    Column("description", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("discount_bp", Integer, nullable=False),
    Column("plan_code", String(64)),
    ForeignKeyConstraint(["quote_number", "version"], ["quote_versions.quote_number", "quote_versions.version"],
                         name="fk_quote_lines_version"),
    CheckConstraint("kind IN ('plan', 'custom')", name="kind"),
    CheckConstraint("quantity >= 1", name="quantity"),
    CheckConstraint("unit_price_minor >= 0", name="unit_price_minor"),
    CheckConstraint("discount_bp BETWEEN 0 AND 10000", name="discount_bp"),
)

quote_comments = Table(
    "quote_comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("quote_number", String(16), ForeignKey("quotes.number"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("author", String(8), nullable=False),
    Column("author_name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("author IN ('rep', 'contact')", name="author"),
    CheckConstraint("kind IN ('comment', 'change_request')", name="kind"),
    Index("ix_quote_comments_quote_number", "quote_number"),
)
