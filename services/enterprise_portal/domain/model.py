"""Enterprise invoices on payment terms and the payments made against them (plain Python).

Money is billing_common.money.Money: integers in the currency's minor unit. All invoices of
one account share the account's currency.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from billing_common.money import Money

# What an account with no invoice at all is shown in: enterprise_portal does not own
# accounts (identity does), so before its first invoice it has no currency here.
DEFAULT_CURRENCY = "USD"

_NET_TERMS = re.compile(r"NET (\d{1,3})")


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    VOID = "void"


def net_days(terms: str) -> int:
    """Days until an invoice on `terms` is due: "NET 30" -> 30."""
    match = _NET_TERMS.fullmatch(terms)
    if match is None:
        raise ValueError(f"unsupported payment terms {terms!r}")
    return int(match.group(1))


def due_date(issued_on: dt.date, terms: str) -> dt.date:
    return issued_on + dt.timedelta(days=net_days(terms))


@dataclass(frozen=True, slots=True)
class Payment:
    id: str
    invoice_id: str
    amount: Money
    received_at: dt.datetime

    def __post_init__(self) -> None:
        if self.amount.amount_minor <= 0:
            raise ValueError("a payment is a positive amount")


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

    def __post_init__(self) -> None:
        if self.total.amount_minor < 0:
            raise ValueError("an invoice total cannot be negative")
        if self.due_on < self.issued_on:
            raise ValueError("an invoice cannot be due before it is issued")
        for payment in self.payments:
            if payment.amount.currency != self.currency or payment.invoice_id != self.id:
                raise ValueError("a payment belongs to its invoice and is in its currency")

    @property
    def currency(self) -> str:
        return self.total.currency

    @property
    def is_open(self) -> bool:
        return self.status is InvoiceStatus.OPEN

    def amount_paid(self) -> Money:
        return sum((p.amount for p in self.payments), Money.zero(self.currency))

    def amount_due(self) -> Money:
        """The total less what has been paid against it (partial payments included)."""
        return self.total - self.amount_paid()


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
