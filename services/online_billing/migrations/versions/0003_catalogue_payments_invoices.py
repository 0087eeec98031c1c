"""the plan catalogue (seat ranges, tiers, EUR), scheduled changes and cancellation reasons,
payment methods, payments, invoices with their lines and gapless numbers, billing profiles

Revision ID: 0003_catalogue_payments_invoices
Revises: 0002_outbox_datetimes
Create Date: 2026-12-02

The catalogue rows are written here (the launch price list of domain.catalogue), so every
database has the plans it sells; rows the demo loader wrote before keep their prices and gain
their seat ranges. The new tables are defined here as they are at this revision (a frozen
copy of adapters.orm), so later changes to orm.py cannot change what this migration does.
"""
import sqlalchemy as sa
from alembic import op

from billing_common.db import NAMING
from billing_common.invoicing.numbering import invoice_number_table

revision = "0003_catalogue_payments_invoices"
down_revision = "0002_outbox_datetimes"
branch_labels = None
depends_on = None

# domain.catalogue's launch list, frozen here: (code, name, min seats, max seats, rank)
PLANS = (("starter", "Starter", 1, 25, 1), ("business", "Business", 1, 300, 2),
         ("enterprise", "Enterprise", 5, 800, 3))
PRICES = {  # (plan, currency): (monthly, annual) per seat, minor units
    ("starter", "USD"): (600, 6_000), ("starter", "EUR"): (550, 5_500), ("starter", "BRL"): (5_990, 59_900),
    ("business", "USD"): (1_600, 16_000), ("business", "EUR"): (1_500, 15_000),
    ("business", "BRL"): (7_990, 79_900),
    ("enterprise", "USD"): (2_400, 24_000), ("enterprise", "EUR"): (2_200, 22_000),
    ("enterprise", "BRL"): (11_990, 119_900),
}


def _new_tables() -> list[sa.Table]:
    m = sa.MetaData(naming_convention=NAMING)
    c, dtz = sa.Column, sa.DateTime(timezone=True)
    return [
        sa.Table(
            "payment_methods", m,
            c("id", sa.String(36), primary_key=True), c("account_id", sa.String(64), nullable=False),
            c("token", sa.String(512), nullable=False), c("brand", sa.String(32), nullable=False),
            c("last4", sa.String(4), nullable=False), c("exp_month", sa.Integer, nullable=False),
            c("exp_year", sa.Integer, nullable=False), c("is_default", sa.Boolean, nullable=False),
            c("created_at", dtz, nullable=False),
            sa.Index("ix_payment_methods_account_id", "account_id"),
        ),
        sa.Table(
            "payments", m,
            c("id", sa.String(36), primary_key=True), c("account_id", sa.String(64), nullable=False),
            c("idempotency_key", sa.String(255), nullable=False),
            c("gateway_key", sa.String(255), nullable=False, unique=True),
            c("fingerprint", sa.String(300), nullable=False), c("subscription_id", sa.String(36), nullable=False),
            c("purpose", sa.String(16), nullable=False), c("status", sa.String(16), nullable=False),
            c("amount_minor", sa.BigInteger, nullable=False), c("currency", sa.String(3), nullable=False),
            c("payment_method_id", sa.String(36), nullable=False), c("token", sa.String(512), nullable=False),
            c("preview", sa.Text, nullable=False), c("created_at", dtz, nullable=False),
            c("settled_at", dtz, nullable=True), c("charge_id", sa.String(255), nullable=True),
            c("decline_code", sa.String(64), nullable=True), c("invoice_id", sa.String(36), nullable=True),
            sa.UniqueConstraint("account_id", "idempotency_key", name="uq_payments_account_id_idempotency_key"),
            sa.CheckConstraint("status IN ('pending', 'succeeded', 'declined', 'unknown', 'failed')", name="status"),
            sa.CheckConstraint("amount_minor > 0", name="amount_minor"),
            sa.Index("ix_payments_subscription_id_status", "subscription_id", "status"),
            sa.Index("ix_payments_status_created_at", "status", "created_at"),
        ),
        sa.Table(
            "invoices", m,
            c("id", sa.String(36), primary_key=True), c("account_id", sa.String(64), nullable=False),
            c("subscription_id", sa.String(36), nullable=False),
            c("number", sa.String(48), nullable=False, unique=True), c("kind", sa.String(16), nullable=False),
            c("status", sa.String(8), nullable=False), c("currency", sa.String(3), nullable=False),
            c("total_minor", sa.BigInteger, nullable=False), c("issued_at", dtz, nullable=False),
            c("paid_at", dtz, nullable=True), c("buyer", sa.Text, nullable=True),
            sa.CheckConstraint("kind IN ('proration', 'reactivation', 'renewal')", name="kind"),
            sa.CheckConstraint("status IN ('open', 'paid', 'void')", name="status"),
            sa.Index("ix_invoices_account_id_issued_at_id", "account_id", "issued_at", "id"),
        ),
        sa.Table(
            "invoice_lines", m,
            c("invoice_id", sa.String(36), sa.ForeignKey("invoices.id"), primary_key=True),
            c("position", sa.Integer, primary_key=True), c("kind", sa.String(16), nullable=False),
            c("plan_code", sa.String(32), nullable=False), c("plan_name", sa.String(100), nullable=False),
            c("seats", sa.Integer, nullable=False), c("interval", sa.String(16), nullable=False),
            c("period_start", dtz, nullable=False), c("period_end", dtz, nullable=False),
            c("unit_amount_minor", sa.BigInteger, nullable=False), c("amount_minor", sa.BigInteger, nullable=False),
        ),
        sa.Table(
            "billing_profiles", m,
            c("account_id", sa.String(64), primary_key=True), c("company_name", sa.String(150), nullable=False),
            c("address_line1", sa.String(100), nullable=False), c("address_line2", sa.String(100), nullable=False),
            c("city", sa.String(100), nullable=False), c("region", sa.String(100), nullable=False),
            c("postal_code", sa.String(16), nullable=False), c("country", sa.String(2), nullable=False),
            c("tax_id_kind", sa.String(8), nullable=True), c("tax_id", sa.String(40), nullable=True),
            c("invoice_emails", sa.Text, nullable=False), c("updated_at", dtz, nullable=False),
        ),
        invoice_number_table(m),
    ]


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("min_seats", sa.Integer(), nullable=False, server_default=sa.text("1")))
        batch.add_column(sa.Column("max_seats", sa.Integer(), nullable=False, server_default=sa.text("1000")))
        batch.add_column(sa.Column("rank", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.create_check_constraint("ck_plans_seat_range", "min_seats >= 1 AND max_seats >= min_seats")
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("scheduled_plan_code", sa.String(32), nullable=True))
        batch.add_column(sa.Column("scheduled_seats", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("scheduled_interval", sa.String(16), nullable=True))
        batch.add_column(sa.Column("cancel_reason", sa.String(500), nullable=False, server_default=sa.text("''")))
        batch.add_column(sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    for table in _new_tables():
        table.create(bind)

    plans = sa.table("plans", sa.column("code"), sa.column("name"), sa.column("min_seats"), sa.column("max_seats"),
                     sa.column("rank"))
    prices = sa.table("plan_prices", sa.column("plan_code"), sa.column("currency"), sa.column("interval"),
                      sa.column("unit_amount_minor"))
    have = {row[0] for row in bind.execute(sa.select(plans.c.code))}
    for code, name, low, high, rank in PLANS:
        if code in have:
            bind.execute(plans.update().where(plans.c.code == code).values(min_seats=low, max_seats=high, rank=rank))
        else:
            bind.execute(plans.insert().values(code=code, name=name, min_seats=low, max_seats=high, rank=rank))
    priced = {tuple(row) for row in bind.execute(sa.select(prices.c.plan_code, prices.c.currency, prices.c.interval))}
    for (code, currency), amounts in PRICES.items():
        for interval, amount in zip(("monthly", "annual"), amounts, strict=True):
            if (code, currency, interval) not in priced:
                bind.execute(prices.insert().values(plan_code=code, currency=currency, interval=interval,
                                                    unit_amount_minor=amount))


def downgrade() -> None:
    for name in ("invoice_number_series", "billing_profiles", "invoice_lines", "invoices", "payments",
                 "payment_methods"):
        op.drop_table(name)
    with op.batch_alter_table("subscriptions") as batch:
        for column in ("created_at", "canceled_at", "cancel_reason", "scheduled_interval", "scheduled_seats",
                       "scheduled_plan_code"):
            batch.drop_column(column)
    with op.batch_alter_table("plans") as batch:
        batch.drop_constraint("ck_plans_seat_range", type_="check")
        for column in ("rank", "max_seats", "min_seats"):
            batch.drop_column(column)
