"""online_billing's tables (SQLAlchemy Core). Alembic's migrations must match this metadata;
tests/integration/online_billing/test_migrations_and_bootstrap.py compares them."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
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
    text,
)

from billing_common.db import NAMING
from billing_common.invoicing.numbering import invoice_number_table
from billing_common.outbox import outbox_table

metadata = MetaData(naming_convention=NAMING)

INTERVALS = ("monthly", "annual")
STATUSES = ("active", "past_due", "canceled")

plans = Table(
    "plans",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    # Since 0003: seats bought between the two (included), and the tiers' order.
    Column("min_seats", Integer, nullable=False, server_default=text("1")),
    Column("max_seats", Integer, nullable=False, server_default=text("1000")),
    Column("rank", Integer, nullable=False, server_default=text("0")),
    CheckConstraint("min_seats >= 1 AND max_seats >= min_seats", name="seat_range"),
)

plan_prices = Table(
    "plan_prices",
    metadata,
    Column("plan_code", String(32), ForeignKey("plans.code"), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("interval", String(16), primary_key=True),
    # Per seat, per interval, in the currency's minor unit.
    Column("unit_amount_minor", BigInteger, nullable=False),
    CheckConstraint("interval IN ('monthly', 'annual')", name="interval"),
    CheckConstraint("unit_amount_minor >= 0", name="unit_amount_minor"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    # identity's account id: another service's key, so no foreign key.
    Column("account_id", String(64), nullable=False),
    Column("plan_code", String(32), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("interval", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("current_period_start", DateTime(timezone=True), nullable=False),
    Column("current_period_end", DateTime(timezone=True), nullable=False),
    Column("cancel_at_period_end", Boolean, nullable=False, default=False),
    # Since 0003: a change taking effect at current_period_end (all three or none), the
    # cancellation's reason, when it ended, when it started.
    Column("scheduled_plan_code", String(32), nullable=True),
    Column("scheduled_seats", Integer, nullable=True),
    Column("scheduled_interval", String(16), nullable=True),
    Column("cancel_reason", String(500), nullable=False, server_default=text("''")),
    Column("canceled_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=True),
    # Since 0004, the billing run's: the renewal charge under way (claimed, not settled yet),
    # and a past-due subscription's retries of its open renewal invoice (domain.model.Dunning).
    Column("renewal_payment_id", String(36), nullable=True),
    Column("dunning_invoice_id", String(36), nullable=True),
    Column("dunning_failed_at", DateTime(timezone=True), nullable=True),
    Column("dunning_retries", Integer, nullable=False, server_default=text("0")),
    Column("next_retry_at", DateTime(timezone=True), nullable=True),
    Column("dunning_decline_code", String(64), nullable=True),
    # A subscription can only be on a price the catalogue has.
    ForeignKeyConstraint(
        ["plan_code", "currency", "interval"],
        ["plan_prices.plan_code", "plan_prices.currency", "plan_prices.interval"],
        name="fk_subscriptions_price_plan_prices",
    ),
    CheckConstraint("seats >= 1", name="seats"),
    CheckConstraint("interval IN ('monthly', 'annual')", name="interval"),
    CheckConstraint("status IN ('active', 'past_due', 'canceled')", name="status"),
    CheckConstraint("current_period_end > current_period_start", name="period"),
    Index("ix_subscriptions_account_id", "account_id"),
    # The billing run's claims: renewals due, retries due.
    Index("ix_subscriptions_status_current_period_end", "status", "current_period_end"),
    Index("ix_subscriptions_status_next_retry_at", "status", "next_retry_at"),
)

# Saved cards: only what S18 allows.
payment_methods = Table(
    "payment_methods",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("token", String(512), nullable=False),
    Column("brand", String(32), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("exp_month", Integer, nullable=False),
    Column("exp_year", Integer, nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_payment_methods_account_id", "account_id"),
)

# Every charge, stored before the gateway is called (S19) with what it pays for.
payments = Table(
    "payments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("gateway_key", String(255), nullable=False, unique=True),
    Column("fingerprint", String(300), nullable=False),
    Column("subscription_id", String(36), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_method_id", String(36), nullable=False),
    Column("token", String(512), nullable=False),
    # The preview the payment pays for (domain.billing.Preview as JSON): applied as it is once paid.
    Column("preview", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("settled_at", DateTime(timezone=True), nullable=True),
    Column("charge_id", String(255), nullable=True),
    Column("decline_code", String(64), nullable=True),
    Column("invoice_id", String(36), nullable=True),
    UniqueConstraint("account_id", "idempotency_key", name="uq_payments_account_id_idempotency_key"),
    CheckConstraint("status IN ('pending', 'succeeded', 'declined', 'unknown', 'failed')", name="status"),
    CheckConstraint("amount_minor > 0", name="amount_minor"),
    Index("ix_payments_subscription_id_status", "subscription_id", "status"),
    Index("ix_payments_status_created_at", "status", "created_at"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("subscription_id", String(36), nullable=False),
    Column("number", String(48), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(8), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=True),
    # The buyer as the billing profile read when the invoice was finalized (JSON), or NULL.
    Column("buyer", Text, nullable=True),
    CheckConstraint("kind IN ('proration', 'reactivation', 'renewal')", name="kind"),
    CheckConstraint("status IN ('open', 'paid', 'void')", name="status"),
    # The history page reads an account's newest first, a page at a time.
    Index("ix_invoices_account_id_issued_at_id", "account_id", "issued_at", "id"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("invoice_id", String(36), ForeignKey("invoices.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("plan_code", String(32), nullable=False),
    Column("plan_name", String(100), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("interval", String(16), nullable=False),
    Column("period_start", DateTime(timezone=True), nullable=False),
    Column("period_end", DateTime(timezone=True), nullable=False),
    Column("unit_amount_minor", BigInteger, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
)

billing_profiles = Table(
    "billing_profiles",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("company_name", String(150), nullable=False),
    Column("address_line1", String(100), nullable=False),
    Column("address_line2", String(100), nullable=False),
    Column("city", String(100), nullable=False),
    Column("region", String(100), nullable=False),
    Column("postal_code", String(16), nullable=False),
    Column("country", String(2), nullable=False),
    Column("tax_id_kind", String(8), nullable=True),
    Column("tax_id", String(40), nullable=True),
    Column("invoice_emails", Text, nullable=False),  # a JSON list
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Since 0005: members' change requests (domain.requests), decided by a billing contact.
change_requests = Table(
    "change_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("subscription_id", String(36), nullable=False),
    # The member who asked, as their session named them: mailed the outcome in their language.
    Column("requested_by", String(64), nullable=False),
    Column("requester_name", String(100), nullable=False),
    Column("requester_email", String(254), nullable=False),
    Column("requester_locale", String(16), nullable=False),
    Column("plan_code", String(32), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("interval", String(16), nullable=False),
    Column("note", String(500), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decided_by", String(64), nullable=True),
    Column("decline_reason", String(500), nullable=False, server_default=text("''")),
    Column("approval_key", String(255), nullable=True),
    Column("invoice_id", String(36), nullable=True),
    Column("scheduled", Boolean, nullable=False, server_default=text("false")),
    CheckConstraint("status IN ('pending', 'approved', 'declined', 'withdrawn')", name="status"),
    CheckConstraint("interval IN ('monthly', 'annual')", name="interval"),
    CheckConstraint("seats >= 1", name="seats"),
    # The Requests page and the member's own list: an account's newest first.
    Index("ix_change_requests_account_id_created_at", "account_id", "created_at"),
)

invoice_number_series = invoice_number_table(metadata)

outbox = outbox_table(metadata, extended=True)  # invoice PDFs attached when sent, deferred mails
