"""The backends' demo rows for the dev configuration (README lists them): online_billing's plan
catalogue and subscriptions, enterprise_portal's invoices, for the account ids identity handed
out (services.devstack.demo.load_identity). Nothing in production imports this.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import structlog

from billing_common.clock import Clock, utc
from billing_common.invoicing.numbering import yearly_series
from billing_common.invoicing.profile import BillingProfile, validate_billing_profile
from billing_common.money import Money
from billing_common.payments.gateway import CardDetails
from billing_common.payments.settings import GatewaySettings, build_tokenizer
from services.enterprise_portal import bootstrap as enterprise_portal
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.domain.lines import Line, LineKind
from services.enterprise_portal.domain.model import Invoice, InvoiceStatus, Payment, due_date
from services.enterprise_portal.domain.purchase_orders import PurchaseOrder
from services.enterprise_portal.domain.quotes import Author, CommentKind
from services.enterprise_portal.service_layer import quotes
from services.online_billing import bootstrap as online_billing
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.domain import billing as online
from services.online_billing.domain.catalogue import Catalogue
from services.online_billing.domain.model import (
    BillingInterval,
    Subscription,
    SubscriptionStatus,
    add_months,
)

log = structlog.get_logger()

# demo key (services.devstack.demo) -> (plan, seats, interval, currency, months of history)
DEMO_SUBSCRIPTIONS: dict[str, tuple[str, int, BillingInterval, str, int]] = {
    "acme": ("business", 10, BillingInterval.MONTHLY, "USD", 9),
    "padaria": ("starter", 3, BillingInterval.ANNUAL, "BRL", 24),
}
# Their billing profiles (validated as the Billing Center's form would).
DEMO_PROFILES: dict[str, dict[str, str]] = {
    "acme": {"company_name": "Acme Online, Inc.", "address_line1": "100 Main Street", "city": "Springfield",
             "region": "IL", "postal_code": "62701", "country": "US"},
    "padaria": {"company_name": "Padaria Pão Quente Ltda.", "address_line1": "Rua Augusta, 1500",
                "city": "São Paulo", "region": "SP", "postal_code": "01304-001", "country": "BR",
                "tax_id": "12.ABC.345/01DE-35"},
}
# The saved card of every demo account: the sandbox's card that always succeeds.
DEMO_CARD = CardDetails(number="4242424242424242", exp_month=12, exp_year=2030, cvc="123", holder_name="Demo Card")


def seed_online_billing(
    settings: OnlineBillingSettings, accounts: Mapping[str, str], clock: Clock | None = None,
    gateway_settings: GatewaySettings | None = None,
) -> bool:
    """Load the demo subscriptions, their billing profiles, a saved sandbox card each and the
    paid renewal invoices of their earlier periods (gapless numbers, oldest first); only into
    an empty database (the plan catalogue is migration 0003's).

    `accounts` maps demo keys to identity account ids (services.devstack.demo.load_identity);
    keys this service has no subscription for (e.g. "globex") are ignored. Returns whether
    anything was written. The database must be migrated first.
    """
    if not online_billing.database_is_empty(settings):
        log.info("online_billing already has data; demo not loaded")
        return False
    gateway_settings = gateway_settings or GatewaySettings()
    # The card is tokenized as the web tier would; nothing is charged, so no gateway store is needed.
    tokenizer = build_tokenizer(gateway_settings, clock=clock)
    deps = online_billing.build_dependencies(settings, clock=clock, gateway=_NoGateway(), vendor=_NO_VENDOR)
    try:
        now = utc(deps.clock.now())
        # Periods start on the first of this month, so the monthly one ends next month.
        period_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        history: list[tuple[dt.datetime, Subscription, BillingProfile]] = []
        with deps.uow() as uow:
            catalogue = uow.plans.catalogue()
            for key, (code, seats, interval, currency, months) in DEMO_SUBSCRIPTIONS.items():
                if key not in accounts:
                    continue
                account_id = accounts[key]
                subscription = _demo_subscription(catalogue, account_id, code, seats, interval, currency,
                                                  period_start)
                uow.subscriptions.add(subscription)
                profile = validate_billing_profile(**DEMO_PROFILES[key])
                uow.billing_profiles.put(account_id, profile, now)
                card = tokenizer.tokenize(DEMO_CARD)
                uow.payment_methods.add(online.PaymentMethod(
                    id=str(uuid.uuid4()), account_id=account_id, token=card.token, brand=card.brand,
                    last4=card.last4, exp_month=card.exp_month, exp_year=card.exp_year, is_default=True,
                    created_at=add_months(period_start, -months)))
                start = period_start
                while start >= add_months(period_start, -months):
                    history.append((start, subscription, profile))
                    start = add_months(start, -interval.months)
            # Numbered in the order they were issued, each in its year's series, as renewals would.
            for issued, subscription, profile in sorted(history, key=lambda h: (h[0], h[1].account_id)):
                line = online.ChargeLine(
                    kind=online.LineKind.PERIOD, plan_code=subscription.plan.code, plan_name=subscription.plan.name,
                    seats=subscription.seats, interval=subscription.interval, period_start=issued,
                    period_end=subscription.interval.period_end(issued), unit_price=subscription.unit_price,
                    amount=subscription.renewal_amount())
                uow.invoices.add(online.Invoice(
                    id=str(uuid.uuid4()), account_id=subscription.account_id, subscription_id=subscription.id,
                    number=uow.invoices.next_number(yearly_series(deps.invoice_prefix, issued.year)),
                    kind=online.InvoiceKind.RENEWAL, status=online.InvoiceStatus.PAID, currency=subscription.currency,
                    issued_at=issued, lines=(line,), buyer=profile, paid_at=issued))
            uow.commit()
    finally:
        deps.close()
    log.info("online_billing demo data loaded", accounts=sorted(set(accounts) & set(DEMO_SUBSCRIPTIONS)))
    return True


class _NoGateway:
    """The demo loader charges nothing; building the real gateway would open its store."""

    def verify(self, token: str) -> Any:
        raise NotImplementedError

    def charge(self, **_: Any) -> Any:
        raise NotImplementedError

    def retrieve(self, idempotency_key: str) -> Any:
        raise NotImplementedError


_NO_VENDOR = BillingProfile(company_name="-", address_line1="-", city="-", country="US")


def _demo_subscription(
    catalogue: Catalogue, account_id: str, code: str, seats: int, interval: BillingInterval, currency: str,
    start: dt.datetime,
) -> Subscription:
    return Subscription(
        id=str(uuid.uuid4()),
        account_id=account_id,
        plan=catalogue.plan(code),
        seats=seats,
        interval=interval,
        status=SubscriptionStatus.ACTIVE,
        unit_price=catalogue.unit_price(code, currency, interval),
        current_period_start=start,
        current_period_end=interval.period_end(start),
        created_at=start,
    )


def seed_enterprise_portal(
    settings: EnterprisePortalSettings, accounts: Mapping[str, str], clock: Clock | None = None
) -> bool:
    """Load Globex Corporation's invoices and quotes (globex_quotes); only into an empty database.

    `accounts` maps demo keys to identity account ids (services.devstack.demo.load_identity);
    only "globex" concerns this service, other keys are ignored. Returns whether anything was
    written. The database must be migrated first.
    """
    if "globex" not in accounts or not enterprise_portal.database_is_empty(settings):
        log.info("enterprise_portal demo not loaded (already has data, or no globex account)")
        return False
    deps = enterprise_portal.build_dependencies(settings, clock=clock, gateway=_NoGateway(), vendor=_NO_VENDOR)
    try:
        today = utc(deps.clock.now()).date()
        with deps.uow() as uow:
            for invoice in globex_invoices(accounts["globex"], today):
                uow.invoices.add(invoice)
            for po in globex_purchase_orders(accounts["globex"], today):
                uow.purchase_orders.add(po)
            uow.commit()
        globex_quotes(deps, accounts["globex"], today)
    finally:
        deps.close()
    log.info("enterprise_portal demo data loaded", accounts=["globex"])
    return True


# The demo rep (services.devstack.demo.REP): identity hands out their user id, which the backends'
# demo loader is not given; the quotes name them by this marker and their address.
DEMO_REP = quotes.Rep(user_id="demo-rita.rep", email="rita@meetings.example", name="Rita Moreno")


def globex_quotes(deps: Any, account_id: str, today: dt.date) -> None:
    """QT-0001 negotiated: version 1 sent, a change request, version 2 sent and open; QT-0002 a
    draft only the rep sees. Written through the use cases, with no one to mail."""
    def usd(amount: str) -> Money:
        return Money.from_decimal(amount, "USD")

    seats = Line(LineKind.PLAN, "Enterprise, annual", 150, usd("264.00"), 1_000, plan_code="enterprise-annual")
    workshop = Line(LineKind.CUSTOM, "Onboarding workshop (2 days, on site)", 1, usd("3000.00"))
    valid = today + dt.timedelta(days=30)
    first = quotes.draft_quote(deps, account_id, rep=DEMO_REP, lines=(seats, workshop), valid_until=valid,
                               terms="NET 30", currency="USD")
    quotes.send_quote(deps, account_id, first.number)
    quotes.comment_on_quote(deps, account_id, first.number, author=Author.CONTACT,
                            author_name="Globex Accounts Payable", kind=CommentKind.CHANGE_REQUEST,
                            body="Could you do 15% on the seats and NET 45?")
    quotes.draft_quote(deps, account_id, rep=DEMO_REP, number=first.number, valid_until=valid, terms="NET 45",
                       lines=(Line(LineKind.PLAN, "Enterprise, annual", 150, usd("264.00"), 1_500,
                                   plan_code="enterprise-annual"), workshop))
    quotes.send_quote(deps, account_id, first.number)
    quotes.draft_quote(deps, account_id, rep=DEMO_REP, valid_until=valid, terms="EOM", currency="USD",
                       lines=(Line(LineKind.PLAN, "Webinar add-on, annual", 10, usd("600.00"),
                                   plan_code="webinar-addon-annual"),))


def globex_purchase_orders(account_id: str, today: dt.date) -> list[PurchaseOrder]:
    """PO-7781 active (USD 25,000.00, INV-1001 and INV-1002 against it: 81% used, expiring in
    25 days, so both notices are due: mailed to Globex's contacts and rep); PO-6120 expired last
    quarter."""
    return [
        PurchaseOrder(str(uuid.uuid4()), account_id, "PO-7781", Money.from_decimal("25000.00", "USD"),
                      today - dt.timedelta(days=340), today + dt.timedelta(days=25), "Annual seats 2026"),
        PurchaseOrder(str(uuid.uuid4()), account_id, "PO-6120", Money.from_decimal("10000.00", "USD"),
                      today - dt.timedelta(days=500), today - dt.timedelta(days=100), "Pilot"),
    ]


def globex_invoices(account_id: str, today: dt.date) -> list[Invoice]:
    """INV-1000 void; INV-1001 paid in full on PO-7781; INV-1002 open on PO-7781 and partly
    paid; INV-1003 open with no PO. Open: 2 invoices, USD 9,150.50 due (6,000.00 + 3,150.50)."""

    def invoice(number: str, total: str, issued_ago: int, terms: str, status: InvoiceStatus,
                paid: str | None = None, paid_after: int = 0, po: str | None = None) -> Invoice:
        invoice_id = str(uuid.uuid4())
        issued = today - dt.timedelta(days=issued_ago)
        received = dt.datetime.combine(issued + dt.timedelta(days=paid_after), dt.time(15), dt.UTC)
        payments = (
            (Payment(str(uuid.uuid4()), invoice_id, Money.from_decimal(paid, "USD"), received),) if paid else ()
        )
        amount = Money.from_decimal(total, "USD")
        return Invoice(
            id=invoice_id, account_id=account_id, number=number, total=amount,
            issued_on=issued, due_on=due_date(issued, terms), terms=terms, status=status, po_number=po,
            payments=payments, lines=(Line(LineKind.CUSTOM, "Meetings Enterprise seats", 1, amount),),
        )

    return [
        invoice("INV-1000", "500.00", 90, "NET 30", InvoiceStatus.VOID),
        invoice("INV-1001", "12000.00", 75, "NET 30", InvoiceStatus.PAID, paid="12000.00", paid_after=21,
                po="PO-7781"),
        invoice("INV-1002", "8400.00", 20, "NET 30", InvoiceStatus.OPEN, paid="2400.00", paid_after=10,
                po="PO-7781"),
        invoice("INV-1003", "3150.50", 5, "NET 45", InvoiceStatus.OPEN),
    ]
