"""The backends' demo rows for the dev configuration (README lists them): online_billing's plan
catalogue and subscriptions, enterprise_portal's invoices, for the account ids identity handed
out (services.devstack.demo.load_identity). Nothing in production imports this.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

import structlog

from billing_common.clock import Clock, utc
from billing_common.money import Money
from services.enterprise_portal import bootstrap as enterprise_portal
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.domain.model import Invoice, InvoiceStatus, Payment, due_date
from services.online_billing import bootstrap as online_billing
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.domain.model import (
    BillingInterval,
    Plan,
    PlanPrice,
    Subscription,
    SubscriptionStatus,
)

log = structlog.get_logger()

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


def seed_online_billing(
    settings: OnlineBillingSettings, accounts: Mapping[str, str], clock: Clock | None = None
) -> bool:
    """Load the plan catalogue and the demo subscriptions; only into an empty database.

    `accounts` maps demo keys to identity account ids (services.devstack.demo.load_identity);
    keys this service has no subscription for (e.g. "globex") are ignored. Returns whether
    anything was written. The database must be migrated first.
    """
    if not online_billing.database_is_empty(settings):
        log.info("online_billing already has data; demo not loaded")
        return False
    deps = online_billing.build_dependencies(settings, clock=clock)
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


def seed_enterprise_portal(
    settings: EnterprisePortalSettings, accounts: Mapping[str, str], clock: Clock | None = None
) -> bool:
    """Load Globex Corporation's invoices; only into an empty database.

    `accounts` maps demo keys to identity account ids (services.devstack.demo.load_identity);
    only "globex" concerns this service, other keys are ignored. Returns whether anything was
    written. The database must be migrated first.
    """
    if "globex" not in accounts or not enterprise_portal.database_is_empty(settings):
        log.info("enterprise_portal demo not loaded (already has data, or no globex account)")
        return False
    deps = enterprise_portal.build_dependencies(settings, clock=clock)
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
