"""Enterprise invoices on payment terms and the payments made against them (plain Python).

Money is billing_common.money.Money: integers in the currency's minor unit. All invoices of
one account share the account's currency.

An invoice stores a lifecycle status (open, paid, void); what a customer sees is its
`state(as_of)`, derived from that, its payments and its due date: void; paid (nothing left
to pay); overdue (something left to pay after the due date, whether or not part was paid);
partially paid (part paid, not yet overdue); open. The due day itself is on time.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from billing_common.errors import FailedPrecondition, InvalidArgument
from billing_common.money import Money
from services.enterprise_portal.domain.lines import Line
from services.enterprise_portal.domain.terms import PaymentTerms, TermsKind

# What an account with no invoice at all is shown in: enterprise_portal does not own
# accounts (identity does), so before its first invoice it has no currency here.
DEFAULT_CURRENCY = "USD"


class InvoiceStatus(StrEnum):
    """What is stored: the lifecycle. See InvoiceState for what the customer sees."""

    OPEN = "open"
    PAID = "paid"
    VOID = "void"


class InvoiceState(StrEnum):
    """An invoice as shown on a given day (the values are billing_common.invoicing.pdf's)."""

    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    VOID = "void"


def net_days(terms: str) -> int:
    """Days until an invoice on NET terms is due: "NET 30" -> 30 (EOM terms are refused)."""
    parsed = PaymentTerms.parse(terms)
    if parsed.kind is not TermsKind.NET:
        raise ValueError(f"{terms!r} are not NET terms")
    return parsed.days


def due_date(issued_on: dt.date, terms: str) -> dt.date:
    """The due date of an invoice issued on `issued_on` on `terms` (see domain.terms)."""
    return PaymentTerms.parse(terms).due_on(issued_on)


@dataclass(frozen=True, slots=True)
class Payment:
    id: str
    invoice_id: str
    amount: Money
    received_at: dt.datetime
    # Where the money came from: the receipt (card payment or offline payment recorded by a
    # rep) it is part of, or the account credit it was applied from. None on payments made
    # before receipts existed.
    receipt_id: str | None = None
    credit_id: str | None = None

    def __post_init__(self) -> None:
        if self.amount.amount_minor <= 0:
            raise ValueError("a payment is a positive amount")
        if self.receipt_id is not None and self.credit_id is not None:
            raise ValueError("a payment comes from a receipt or from a credit, not both")

    @property
    def received_on(self) -> dt.date:
        """The day it counts from (UTC), for balances as of a date."""
        return self.received_at.astimezone(dt.UTC).date()


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    account_id: str
    number: str
    total: Money
    issued_on: dt.date
    due_on: dt.date
    terms: str
    status: InvoiceStatus
    po_number: str | None = None
    payments: tuple[Payment, ...] = field(default=())
    # Empty on invoices stored before lines were; when present they add up to the total.
    lines: tuple[Line, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.total.amount_minor < 0:
            raise ValueError("an invoice total cannot be negative")
        if self.due_on < self.issued_on:
            raise ValueError("an invoice cannot be due before it is issued")
        for payment in self.payments:
            if payment.amount.currency != self.currency or payment.invoice_id != self.id:
                raise ValueError("a payment belongs to its invoice and is in its currency")
        if self.amount_paid().amount_minor > self.total.amount_minor:
            raise ValueError("an invoice cannot be paid more than its total")
        if self.lines and sum(line.amount.amount_minor for line in self.lines) != self.total.amount_minor:
            raise ValueError("an invoice's lines add up to its total")
        for line in self.lines:
            if line.currency != self.currency:
                raise ValueError("an invoice's lines are in its currency")

    @property
    def currency(self) -> str:
        return self.total.currency

    @property
    def is_open(self) -> bool:
        return self.status is InvoiceStatus.OPEN

    @property
    def is_void(self) -> bool:
        return self.status is InvoiceStatus.VOID

    @property
    def payment_terms(self) -> PaymentTerms:
        return PaymentTerms.parse(self.terms)

    def amount_paid(self, as_of: dt.date | None = None) -> Money:
        """What has been paid against it, by the end of `as_of` (UTC) when given."""
        return sum(
            (p.amount for p in self.payments if as_of is None or p.received_on <= as_of),
            Money.zero(self.currency),
        )

    def amount_due(self) -> Money:
        """The total less what has been paid against it (partial payments included)."""
        return self.total - self.amount_paid()

    def balance(self, as_of: dt.date | None = None) -> Money:
        """What is left to pay (by the end of `as_of` when given); nothing on a void invoice,
        and nothing before it was issued."""
        if self.is_void or (as_of is not None and as_of < self.issued_on):
            return Money.zero(self.currency)
        return self.total - self.amount_paid(as_of)

    def days_past_due(self, as_of: dt.date) -> int:
        """Days since the due date (0 up to and on the due date)."""
        return max(0, (as_of - self.due_on).days)

    def state(self, as_of: dt.date) -> InvoiceState:
        """What the invoice shows on `as_of` (see the module's docstring)."""
        if self.is_void:
            return InvoiceState.VOID
        # Not balance(as_of): before its issue day an invoice owes nothing yet, but it is not paid.
        left = (self.total - self.amount_paid(as_of)).amount_minor
        if left == 0:
            return InvoiceState.PAID
        if as_of > self.due_on:
            return InvoiceState.OVERDUE
        if self.amount_paid(as_of).amount_minor > 0:
            return InvoiceState.PARTIALLY_PAID
        return InvoiceState.OPEN

    def with_payment(self, payment: Payment) -> Invoice:
        """The invoice with `payment` applied; paid once nothing is left. Never below zero."""
        if self.is_void:
            raise FailedPrecondition(f"invoice {self.number} is void and cannot be paid")
        if payment.amount.currency != self.currency:
            raise InvalidArgument(f"invoice {self.number} is in {self.currency}", field="currency")
        if payment.amount.amount_minor > self.balance().amount_minor:
            raise InvalidArgument(f"more than the balance of invoice {self.number}", field="amount")
        paid = replace(self, payments=(*self.payments, payment))
        return replace(paid, status=InvoiceStatus.PAID) if paid.balance().amount_minor == 0 else paid

    def voided(self) -> Invoice:
        """The invoice cancelled; one with payments is not voided (they would be lost)."""
        if self.payments:
            raise FailedPrecondition(f"invoice {self.number} has payments and cannot be voided")
        return replace(self, status=InvoiceStatus.VOID)


@dataclass(frozen=True, slots=True)
class OpenInvoiceSummary:
    open_count: int
    total_due: Money


def summarise_open_invoices(invoices: Iterable[Invoice], currency: str) -> OpenInvoiceSummary:
    """Count and total due of the open invoices among `invoices`, in `currency`.

    `currency` is the account's currency; it is what the zero is expressed in when nothing is
    open. Mixing currencies is refused (Money raises ValueError) rather than summed.
    """
    open_invoices: Sequence[Invoice] = [i for i in invoices if i.is_open]
    total = sum((i.amount_due() for i in open_invoices), Money.zero(currency))
    return OpenInvoiceSummary(open_count=len(open_invoices), total_due=total)
