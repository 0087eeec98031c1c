"""Charges, invoices, payments and payment methods of online accounts (plain Python; no I/O)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from billing_common.invoicing.profile import BillingProfile
from billing_common.money import Money
from services.online_billing.domain.model import BillingInterval, Selection


class LineKind(StrEnum):
    # The unused rest of the current period of what the subscription has (a negative amount).
    CREDIT = "credit"
    # The rest of the current period of what the subscription changes to.
    PRORATED_CHARGE = "prorated_charge"
    # A whole period (a new annual period, a reactivation, a renewal).
    PERIOD = "period"


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One line of a preview and of the invoice made from it: the same object in both, so the
    invoice cannot differ from the preview."""

    kind: LineKind
    plan_code: str
    plan_name: str
    seats: int
    interval: BillingInterval
    period_start: dt.datetime
    period_end: dt.datetime
    # Per seat for a whole interval (what the catalogue says); `amount` is the line's total.
    unit_price: Money
    amount: Money

    def describe(self, language: str = "en") -> str:
        """The line as it reads on an invoice."""
        pt = language.replace("_", "-").lower().startswith("pt")
        seats = (f"{self.seats} assento" + ("s" if self.seats != 1 else "")) if pt else (
            f"{self.seats} seat" + ("s" if self.seats != 1 else ""))
        interval = {("monthly", True): "mensal", ("annual", True): "anual"}.get((self.interval.value, pt),
                                                                               self.interval.value)
        start, end = self.period_start.date().isoformat(), self.period_end.date().isoformat()
        if pt:
            what = {LineKind.CREDIT: "Crédito pelo tempo não usado de", LineKind.PRORATED_CHARGE:
                    "Tempo restante de", LineKind.PERIOD: "Assinatura"}[self.kind]
            return f"{what} {self.plan_name}, {seats}, {interval} ({start} a {end})"
        what = {LineKind.CREDIT: "Unused time on", LineKind.PRORATED_CHARGE: "Remaining time on",
                LineKind.PERIOD: "Subscription"}[self.kind]
        return f"{what} {self.plan_name}, {seats}, {interval} ({start} to {end})"


class Timing(StrEnum):
    IMMEDIATE = "immediate"  # charged now, in effect now
    SCHEDULED = "scheduled"  # nothing charged now; takes effect at the next renewal


class ChargePurpose(StrEnum):
    CHANGE = "change"
    REACTIVATION = "reactivation"
    RENEWAL = "renewal"  # the billing run's charge of a period's renewal invoice (or a retry of it)


@dataclass(frozen=True, slots=True)
class Preview:
    """Exactly what a change (or a reactivation) does when applied at `at`: the lines charged
    now (none when scheduled), the amount they add up to, and what the subscription becomes."""

    purpose: ChargePurpose
    subscription_id: str  # the subscription changed; for a reactivation, the lapsed one
    currency: str
    current: Selection
    target: Selection
    timing: Timing
    at: dt.datetime  # the instant of the preview, to the second
    effective_at: dt.datetime  # `at` when immediate, the period's end when scheduled
    lines: tuple[ChargeLine, ...]
    new_recurring_amount: Money  # what each renewal of `target` charges
    next_renewal_at: dt.datetime
    # The period the subscription is in once an immediate change is applied.
    period_start: dt.datetime
    period_end: dt.datetime

    @property
    def amount_due(self) -> Money:
        return sum((line.amount for line in self.lines), Money.zero(self.currency))

    def fingerprint(self) -> str:
        """What a caller asked for, to tell a replay (same idempotency key, same request) from
        a reused key (another request)."""
        t = self.target
        return f"{self.purpose.value}:{self.subscription_id}:{t.plan_code}:{t.seats}:{t.interval.value}"


class InvoiceKind(StrEnum):
    PRORATION = "proration"
    REACTIVATION = "reactivation"
    RENEWAL = "renewal"


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    VOID = "void"


@dataclass(frozen=True, slots=True)
class Invoice:
    """A finalized invoice: numbered, with its lines and the buyer as the billing profile read
    when it was finalized (None when the account had no profile yet)."""

    id: str
    account_id: str
    subscription_id: str
    number: str
    kind: InvoiceKind
    status: InvoiceStatus
    currency: str
    issued_at: dt.datetime
    lines: tuple[ChargeLine, ...]
    buyer: BillingProfile | None = None
    paid_at: dt.datetime | None = None

    @property
    def total(self) -> Money:
        return sum((line.amount for line in self.lines), Money.zero(self.currency))


class PaymentStatus(StrEnum):
    PENDING = "pending"  # stored before the gateway call; no answer recorded yet
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    UNKNOWN = "unknown"  # the answer was lost: the reconciler settles it (S20)
    FAILED = "failed"  # the request never reached the gateway (the reconciler found nothing)


@dataclass(frozen=True, slots=True)
class Payment:
    """One charge of a card, stored with its idempotency keys before the gateway is called
    (S19), with what it pays for (`preview`) so that whoever settles it applies exactly that."""

    id: str
    account_id: str
    idempotency_key: str  # the caller's, unique per account
    gateway_key: str  # the one sent to the gateway, unique among every caller of the gateway
    fingerprint: str
    preview: Preview
    payment_method_id: str
    token: str  # the card charged (the same card on every retry)
    status: PaymentStatus
    created_at: dt.datetime
    settled_at: dt.datetime | None = None
    charge_id: str | None = None
    decline_code: str | None = None
    invoice_id: str | None = None

    @property
    def amount(self) -> Money:
        return self.preview.amount_due

    @property
    def in_flight(self) -> bool:
        return self.status in (PaymentStatus.PENDING, PaymentStatus.UNKNOWN)

    def settled(self, status: PaymentStatus, at: dt.datetime, *, charge_id: str | None = None,
                decline_code: str | None = None, invoice_id: str | None = None) -> Payment:
        return replace(self, status=status, settled_at=at if status is not PaymentStatus.UNKNOWN else None,
                       charge_id=charge_id, decline_code=decline_code, invoice_id=invoice_id)


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    """A saved card: only what S18 allows (the gateway's token, brand, last 4, expiry)."""

    id: str
    account_id: str
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool
    created_at: dt.datetime
