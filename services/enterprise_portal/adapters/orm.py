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
    UniqueConstraint,
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
    # Why the invoice was flagged when issued (domain.purchase_orders.PoProblem), if it was.
    Column("po_problem", String(16)),
    CheckConstraint("total_minor >= 0", name="total_minor"),
    CheckConstraint("status IN ('open', 'paid', 'void')", name="status"),
    CheckConstraint("due_on >= issued_on", name="due_on"),
    Index("ix_invoices_account_id_status", "account_id", "status"),
    # The invoice list pages newest first by (issued_on, number) with a keyset cursor: this
    # index serves any page of an account with any number of invoices.
    Index("ix_invoices_account_id_issued_on_number", "account_id", "issued_on", "number"),
    # What was invoiced against a PO (its remaining balance) is a sum over this.
    Index("ix_invoices_account_id_po_number", "account_id", "po_number"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("invoice_id", String(36), ForeignKey("invoices.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("description", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("discount_bp", Integer, nullable=False),
    Column("plan_code", String(64)),
    CheckConstraint("quantity > 0", name="quantity"),
    CheckConstraint("discount_bp BETWEEN 0 AND 10000", name="discount_bp"),
)

# Money received once: a card payment that succeeded, or an offline one a rep recorded.
receipts = Table(
    "receipts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("method", String(16), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # Who recorded it (the rep's user id) for offline payments; the payer for card payments.
    Column("recorded_by", String(64), nullable=False),
    CheckConstraint("amount_minor > 0", name="amount_minor"),
    CheckConstraint("method IN ('card', 'bank_transfer', 'check', 'ach')", name="method"),
    Index("ix_receipts_account_id_received_at", "account_id", "received_at"),
)

credits = Table(
    "credits",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("receipt_id", String(36), ForeignKey("receipts.id")),
    CheckConstraint("amount_minor > 0", name="amount_minor"),
    Index("ix_credits_account_id", "account_id"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("invoice_id", String(36), ForeignKey("invoices.id"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # Where the money came from (domain.model.Payment): a receipt, or a credit spent.
    Column("receipt_id", String(36), ForeignKey("receipts.id")),
    Column("credit_id", String(36), ForeignKey("credits.id")),
    CheckConstraint("amount_minor > 0", name="amount_minor"),
    Index("ix_payments_invoice_id", "invoice_id"),
    Index("ix_payments_credit_id", "credit_id"),
    # A statement finds the payments made since its start (adapters.repository.for_statement).
    Index("ix_payments_received_at", "received_at"),
)

# A card payment's attempt (S19, S20): stored with the caller's idempotency key before the
# gateway is called, settled after (a receipt and its payments on success).
card_payments = Table(
    "card_payments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("gateway_key", String(64), nullable=False, unique=True),
    # The request, so a replay with the same key and another request is refused.
    Column("fingerprint", Text, nullable=False),
    Column("token", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    # The allocation confirmed: "invoice_id:amount_minor" pairs joined by commas.
    Column("allocation", Text, nullable=False),
    Column("payer_email", String(320), nullable=False),
    Column("payer_user_id", String(64), nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("settled_at", DateTime(timezone=True)),
    Column("charge_id", String(255)),
    Column("decline_code", String(64)),
    Column("receipt_id", String(36), ForeignKey("receipts.id")),
    CheckConstraint("amount_minor > 0", name="amount_minor"),
    CheckConstraint("status IN ('pending', 'succeeded', 'declined', 'unknown', 'failed')", name="status"),
    UniqueConstraint("account_id", "idempotency_key", name="uq_card_payments_account_id_idempotency_key"),
    Index("ix_card_payments_status", "status"),
)

purchase_orders = Table(
    "purchase_orders",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("number", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("notes", Text, nullable=False),
    # Each notice is mailed once per PO (the job's, see service_layer.purchase_orders).
    Column("expiry_notice_sent_at", DateTime(timezone=True)),
    Column("usage_notice_sent_at", DateTime(timezone=True)),
    CheckConstraint("amount_minor > 0", name="amount_minor"),
    CheckConstraint("valid_to >= valid_from", name="valid_to"),
    UniqueConstraint("account_id", "number", name="uq_purchase_orders_account_id_number"),
)

invoice_numbers = invoice_number_table(metadata)

# Extended: mails addressed when sent (identity's contacts and reps) and invoice PDFs attached then.
outbox = outbox_table(metadata, extended=True)

# Quotes count in the series "QT" of the gapless counter table above (invoice_numbers): QT-0042.

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
    # The quotes list's keyset pages, newest number first (migration 0005).
    Index("ix_quotes_account_id_number", "account_id", "number"),
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
