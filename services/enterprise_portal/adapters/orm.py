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
    Index,
    MetaData,
    String,
    Table,
)

from billing_common.db import NAMING
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
