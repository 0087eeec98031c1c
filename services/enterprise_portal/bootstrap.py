"""Builds enterprise_portal's dependencies from settings, and the set-up the operator tools
call: migrations, the empty-database check, demo data.

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
from services.enterprise_portal.adapters.unit_of_work import SqlEnterprisePortalUnitOfWork
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.domain.model import Invoice, InvoiceStatus, Payment, due_date
from services.enterprise_portal.service_layer.dependencies import Dependencies

log = structlog.get_logger()

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "enterprise_portal_alembic_version"


def build_dependencies(
    settings: EnterprisePortalSettings, *, engine: Engine | None = None, clock: Clock | None = None
) -> Dependencies:
    """The use cases' dependencies over a SQL unit of work. Anything passed in is used as is
    (tests); the rest is built from settings, and `.close()` disposes of what was built here."""
    return build_sql_dependencies(Dependencies, settings.database_url, SqlEnterprisePortalUnitOfWork,
                                  engine=engine, clock=clock)


def migrate(settings: EnterprisePortalSettings) -> None:
    """Create or upgrade the database to the newest migration."""
    db.migrate(settings.database_url, MIGRATIONS, VERSION_TABLE)


def database_is_empty(settings: EnterprisePortalSettings) -> bool:
    """True when there is no invoice yet (or no tables yet)."""
    return db.database_is_empty(settings.database_url, "invoices")


def seed_demo(
    settings: EnterprisePortalSettings, accounts: Mapping[str, str], clock: Clock | None = None
) -> bool:
    """Load Globex Corporation's invoices; only into an empty database.

    `accounts` maps demo keys to identity account ids (services.devstack.demo.load_identity);
    only "globex" concerns this service, other keys are ignored. Returns whether anything was
    written. The database must be migrated first.
    """
    if "globex" not in accounts or not database_is_empty(settings):
        log.info("enterprise_portal demo not loaded (already has data, or no globex account)")
        return False
    deps = build_dependencies(settings, clock=clock)
    try:
        today = utc(deps.clock.now()).date()
        with deps.uow() as uow:
            for invoice in globex_invoices(accounts["globex"], today):
                uow.invoices.add(invoice)
            uow.commit()
    finally:
        deps.close()
    log.info("enterprise_portal demo data loaded", accounts=["globex"])
    return True


def globex_invoices(account_id: str, today: dt.date) -> list[Invoice]:
    """INV-1001 paid in full; INV-1002 open on PO-7781 and partly paid; INV-1003 open.
    Open: 2 invoices, USD 9,150.50 due (6,000.00 + 3,150.50)."""

    def invoice(number: str, total: str, issued_ago: int, terms: str, status: InvoiceStatus,
                paid: str | None = None, paid_after: int = 0, po: str | None = None) -> Invoice:
        invoice_id = str(uuid.uuid4())
        issued = today - dt.timedelta(days=issued_ago)
        received = dt.datetime.combine(issued + dt.timedelta(days=paid_after), dt.time(15), dt.UTC)
        payments = (
            (Payment(str(uuid.uuid4()), invoice_id, Money.from_decimal(paid, "USD"), received),) if paid else ()
        )
        return Invoice(
            id=invoice_id, account_id=account_id, number=number, total=Money.from_decimal(total, "USD"),
            issued_on=issued, due_on=due_date(issued, terms), terms=terms, status=status, po_number=po,
            payments=payments,
        )

    return [
        invoice("INV-1001", "12000.00", 75, "NET 30", InvoiceStatus.PAID, paid="12000.00", paid_after=21),
        invoice("INV-1002", "8400.00", 20, "NET 30", InvoiceStatus.OPEN, paid="2400.00", paid_after=10,
                po="PO-7781"),
        invoice("INV-1003", "3150.50", 5, "NET 45", InvoiceStatus.OPEN),
    ]
