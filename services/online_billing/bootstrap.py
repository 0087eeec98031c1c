"""Builds online_billing's dependencies from settings, and the set-up the operator tools call:
migrations and the empty-database check (the demo rows are services/devstack's).

Each function builds its own engine from the settings (and the set-up ones dispose of it), so
importing this module opens nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import structlog
from sqlalchemy import Engine

from billing_common import db
from billing_common.billing_contacts import BillingContacts, contacts_or_built
from billing_common.clock import Clock
from billing_common.dependencies import build_sql_dependencies
from billing_common.invoicing.profile import BillingProfile
from billing_common.invoicing.vendor import vendor_or_configured
from billing_common.payments.gateway import PaymentGateway
from billing_common.payments.settings import GatewaySettings, gateway_or_built
from billing_common.service_auth import ONLINE_BILLING
from services.online_billing.adapters.unit_of_work import SqlOnlineBillingUnitOfWork
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.service_layer.dependencies import Dependencies

log = structlog.get_logger()

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "online_billing_alembic_version"

def build_dependencies(
    settings: OnlineBillingSettings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    gateway: PaymentGateway | None = None,
    gateway_settings: GatewaySettings | None = None,
    vendor: BillingProfile | None = None,
    contacts: BillingContacts | None = None,
) -> Dependencies:
    """The use cases' dependencies over a SQL unit of work. Anything passed in is used as is
    (tests); the rest is built from settings (the gateway from `gateway_settings`, else from the
    environment's PAYMENT_GATEWAY and SANDBOX_GATEWAY_*; the seller from VENDOR_*), and
    `.close()` disposes of what was built here. Raises ConfigurationError naming the variable
    when the gateway, the vendor or identity cannot be configured (in prod). Identity (the
    billing contacts) is `contacts`, else IDENTITY_TARGET's when it is set."""
    closers: list[Callable[[], None]] = []
    contacts = contacts_or_built(contacts, settings, ONLINE_BILLING, closers=closers,
                                 unaddressed="the billing mails would reach no billing contact")
    gateway = gateway_or_built(gateway, gateway_settings, clock=clock, closers=closers)
    vendor = vendor_or_configured(vendor)
    return build_sql_dependencies(Dependencies, settings.database_url, SqlOnlineBillingUnitOfWork,
                                  engine=engine, clock=clock, closers=closers, gateway=gateway, vendor=vendor,
                                  dunning=settings.dunning_schedule(), billing_center_url=settings.billing_center_url,
                                  contacts=contacts)


def migrate(settings: OnlineBillingSettings) -> None:
    """Create or upgrade the database to the newest migration."""
    db.migrate(settings.database_url, MIGRATIONS, VERSION_TABLE)


def database_is_empty(settings: OnlineBillingSettings) -> bool:
    """True when no subscription has a row (or no tables yet). The catalogue does not count:
    migration 0003 writes it into every database."""
    return db.database_is_empty(settings.database_url, "subscriptions")
