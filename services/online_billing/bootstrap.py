"""Builds online_billing's dependencies from settings, and the set-up the operator tools call:
migrations, the empty-database check, demo data.

Each function builds its own engine from the settings (and the set-up ones dispose of it), so
importing this module opens nothing.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from pathlib import Path

import structlog
from sqlalchemy import Engine

from billing_common import db
from billing_common.clock import Clock, utc
from billing_common.dependencies import build_sql_dependencies
from billing_common.money import Money
from services.online_billing.adapters.unit_of_work import SqlOnlineBillingUnitOfWork
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.domain.model import (
    BillingInterval,
    Plan,
    PlanPrice,
    Subscription,
    SubscriptionStatus,
)
from services.online_billing.service_layer.dependencies import Dependencies

log = structlog.get_logger()

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "online_billing_alembic_version"

# The demo catalogue: per-seat prices in minor units (annual = 10 months' worth).
PLANS = (Plan("starter", "Starter"), Plan("business", "Business"), Plan("enterprise", "Enterprise"))
PRICES: dict[tuple[str, str, BillingInterval], int] = {
    ("starter", "USD", BillingInterval.MONTHLY): 600,
    ("starter", "USD", BillingInterval.ANNUAL): 6_000,
    ("starter", "BRL", BillingInterval.MONTHLY): 5_990,
    ("starter", "BRL", BillingInterval.ANNUAL): 59_900,
    ("business", "USD", BillingInterval.MONTHLY): 1_600,
    ("business", "USD", BillingInterval.ANNUAL): 16_000,
    ("business", "BRL", BillingInterval.MONTHLY): 7_990,
    ("business", "BRL", BillingInterval.ANNUAL): 79_900,
    ("enterprise", "USD", BillingInterval.MONTHLY): 2_400,
    ("enterprise", "USD", BillingInterval.ANNUAL): 24_000,
    ("enterprise", "BRL", BillingInterval.MONTHLY): 11_990,
    ("enterprise", "BRL", BillingInterval.ANNUAL): 119_900,
}

# demo key (services.devstack.demo) -> (plan, seats, interval, currency)
DEMO_SUBSCRIPTIONS: dict[str, tuple[str, int, BillingInterval, str]] = {
    "acme": ("business", 10, BillingInterval.MONTHLY, "USD"),
    "padaria": ("starter", 3, BillingInterval.ANNUAL, "BRL"),
}


def build_dependencies(
    settings: OnlineBillingSettings, *, engine: Engine | None = None, clock: Clock | None = None
) -> Dependencies:
    """The use cases' dependencies over a SQL unit of work. Anything passed in is used as is
    (tests); the rest is built from settings, and `.close()` disposes of what was built here."""
    return build_sql_dependencies(Dependencies, settings.database_url, SqlOnlineBillingUnitOfWork,
                                  engine=engine, clock=clock)


def migrate(settings: OnlineBillingSettings) -> None:
    """Create or upgrade the database to the newest migration."""
    db.migrate(settings.database_url, MIGRATIONS, VERSION_TABLE)


def database_is_empty(settings: OnlineBillingSettings) -> bool:
    """True when neither the catalogue nor any subscription has a row (or no tables yet)."""
    return db.database_is_empty(settings.database_url, "plans", "subscriptions")


def seed_demo(
    settings: OnlineBillingSettings, accounts: Mapping[str, str], clock: Clock | None = None
) -> bool:
    """Load the plan catalogue and the demo subscriptions; only into an empty database.

    `accounts` maps demo keys to identity account ids (services.devstack.demo.load_identity);
    keys this service has no subscription for (e.g. "globex") are ignored. Returns whether
    anything was written. The database must be migrated first.
    """
    if not database_is_empty(settings):
        log.info("online_billing already has data; demo not loaded")
        return False
    deps = build_dependencies(settings, clock=clock)
    try:
        # Periods start on the first of this month, so the monthly one ends next month.
        period_start = utc(deps.clock.now()).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        with deps.uow() as uow:
            for plan in PLANS:
                uow.plans.add(plan)
            for (code, currency, interval), minor in PRICES.items():
                uow.plans.add_price(PlanPrice(code, interval, Money(minor, currency)))
            for key, (code, seats, interval, currency) in DEMO_SUBSCRIPTIONS.items():
                if key not in accounts:
                    continue
                uow.subscriptions.add(
                    _demo_subscription(accounts[key], code, seats, interval, currency, period_start)
                )
            uow.commit()
    finally:
        deps.close()
    log.info("online_billing demo data loaded", accounts=sorted(set(accounts) & set(DEMO_SUBSCRIPTIONS)))
    return True


def _demo_subscription(
    account_id: str, code: str, seats: int, interval: BillingInterval, currency: str, start: dt.datetime
) -> Subscription:
    plan = next(p for p in PLANS if p.code == code)
    return Subscription(
        id=str(uuid.uuid4()),
        account_id=account_id,
        plan=plan,
        seats=seats,
        interval=interval,
        status=SubscriptionStatus.ACTIVE,
        unit_price=Money(PRICES[(code, currency, interval)], currency),
        current_period_start=start,
        current_period_end=interval.period_end(start),
    )
