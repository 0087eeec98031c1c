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
)

from billing_common.db import NAMING
from billing_common.outbox import outbox_table

metadata = MetaData(naming_convention=NAMING)

INTERVALS = ("monthly", "annual")
STATUSES = ("active", "past_due", "canceled")

plans = Table(
    "plans",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
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
)

outbox = outbox_table(metadata)
