"""Builds enterprise_portal's dependencies from settings, and the set-up the operator tools
call: migrations and the empty-database check (the demo rows are services/devstack's).

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
from billing_common.service_auth import ENTERPRISE_PORTAL
from services.enterprise_portal.adapters.unit_of_work import SqlEnterprisePortalUnitOfWork
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.service_layer.dependencies import Dependencies
from services.enterprise_portal.service_layer.quote_invoicing import InvoicingIssuer

log = structlog.get_logger()

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "enterprise_portal_alembic_version"


def build_dependencies(
    settings: EnterprisePortalSettings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    gateway: PaymentGateway | None = None,
    gateway_settings: GatewaySettings | None = None,
    vendor: BillingProfile | None = None,
    contacts: BillingContacts | None = None,
) -> Dependencies:
    """The use cases' dependencies over a SQL unit of work. Anything passed in is used as is
    (tests); the rest is built from settings (the gateway from `gateway_settings`, else from
    PAYMENT_GATEWAY and SANDBOX_GATEWAY_*; the seller from VENDOR_*), and `.close()` disposes
    of what was built here. Raises ConfigurationError naming the variable when the gateway or
    the vendor cannot be configured (in prod). Identity (whom the mails go to) is `contacts`,
    else IDENTITY_TARGET's when it is set (required in prod)."""
    closers: list[Callable[[], None]] = []
    contacts = contacts_or_built(contacts, settings, ENTERPRISE_PORTAL, closers=closers,
                                 unaddressed="the enterprise mails would reach nobody")
    gateway = gateway_or_built(gateway, gateway_settings, clock=clock, closers=closers)
    vendor = vendor_or_configured(vendor)
    return build_sql_dependencies(Dependencies, settings.database_url, SqlEnterprisePortalUnitOfWork,
                                  engine=engine, clock=clock, closers=closers, gateway=gateway, vendor=vendor,
                                  portal_url=settings.portal_url, invoice_issuer=InvoicingIssuer(), contacts=contacts)


def migrate(settings: EnterprisePortalSettings) -> None:
    """Create or upgrade the database to the newest migration."""
    db.migrate(settings.database_url, MIGRATIONS, VERSION_TABLE)


def database_is_empty(settings: EnterprisePortalSettings) -> bool:
    """True when there is no invoice yet (or no tables yet)."""
    return db.database_is_empty(settings.database_url, "invoices")
