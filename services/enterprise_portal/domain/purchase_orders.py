"""Purchase orders of enterprise accounts, and whether an invoice may be issued against one.

A PO is the customer's authorisation to be invoiced up to `amount` between `valid_from` and
`valid_to` (both days included). What was invoiced against it is the total of the account's
invoices carrying its number, void ones excepted (`invoiced_against`); its remaining balance
is the amount less that, and never shown below zero.

Its status on a day, in this order: *exhausted* once nothing remains (fully used is final,
even after expiry); *expired* after `valid_to`; *upcoming* before `valid_from` (the issue
names active, expired and exhausted; a PO entered ahead of its start is none of those);
otherwise *active*.

An invoice is issued even against a PO that does not cover it (the service is delivered;
the PO is the customer's paperwork), but it is flagged to the contacts and the rep:
`po_problem` says why (no PO, unknown, upcoming, expired, exhausted, not enough left, other
currency). The two notices are pure predicates over the PO on a day; sending each once per
PO is the job's business: `expiry_notice_due` from 30 days before `valid_to` to `valid_to`
while active, `usage_notice_due` once 80% or more of the amount is invoiced.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from billing_common.errors import InvalidArgument
from billing_common.money import Money
from services.enterprise_portal.domain.model import Invoice

MAX_NUMBER = 64
MAX_NOTES = 2_000
EXPIRY_NOTICE_DAYS = 30
USAGE_NOTICE_PERCENT = 80

# Printable, no leading or trailing space: PO numbers are the customer's (PO-7781, 4500012345,
# "ACME/2026/117"), so only what would break a page, a PDF or a mail header is refused.
_PO_NUMBER = re.compile(r"[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?")


class PoStatus(StrEnum):
    UPCOMING = "upcoming"
    ACTIVE = "active"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"


class PoProblem(StrEnum):
    """Why an invoice is flagged: its PO does not cover it."""

    NONE_GIVEN = "none_given"
    UNKNOWN = "unknown"  # a number that is not one of the account's POs
    UPCOMING = "upcoming"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    INSUFFICIENT = "insufficient"  # the invoice is more than what remains
    CURRENCY = "currency"


class PoNotice(StrEnum):
    EXPIRES_SOON = "expires_soon"
    MOSTLY_USED = "mostly_used"


def validate_po_number(number: str) -> str:
    if not isinstance(number, str) or not number or len(number) > MAX_NUMBER or not _PO_NUMBER.fullmatch(number):
        raise InvalidArgument(f"a PO number is 1 to {MAX_NUMBER} printable characters, with no space around",
                              field="number")
    return number


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    id: str
    account_id: str
    number: str
    amount: Money
    valid_from: dt.date
    valid_to: dt.date
    notes: str = ""
    # The total of the non-void invoices carrying its number (see invoiced_against).
    invoiced: Money | None = None

    def __post_init__(self) -> None:
        validate_po_number(self.number)
        if self.amount.amount_minor <= 0:
            raise InvalidArgument("a PO's amount is more than zero", field="amount")
        if self.valid_to < self.valid_from:
            raise InvalidArgument("a PO is valid to a day on or after the day it is valid from", field="valid_to")
        if len(self.notes) > MAX_NOTES:
            raise InvalidArgument(f"notes are at most {MAX_NOTES} characters", field="notes")
        if self.invoiced is not None and self.invoiced.currency != self.currency:
            raise ValueError("what was invoiced against a PO is in its currency")
        if self.invoiced is not None and self.invoiced.amount_minor < 0:
            raise ValueError("what was invoiced against a PO cannot be negative")

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def used(self) -> Money:
        return self.invoiced or Money.zero(self.currency)

    def remaining(self) -> Money:
        """The amount less what was invoiced against it; zero when overdrawn."""
        return Money(max(0, self.amount.amount_minor - self.used.amount_minor), self.currency)

    def with_invoiced(self, invoices: Iterable[Invoice]) -> PurchaseOrder:
        """The PO with `invoiced` counted from the account's `invoices`."""
        return replace(self, invoiced=invoiced_against(self, invoices))

    def status(self, as_of: dt.date) -> PoStatus:
        if self.remaining().amount_minor == 0:
            return PoStatus.EXHAUSTED
        if as_of > self.valid_to:
            return PoStatus.EXPIRED
        if as_of < self.valid_from:
            return PoStatus.UPCOMING
        return PoStatus.ACTIVE

    def may_invoice(self, amount: Money, issued_on: dt.date) -> bool:
        return self.problem_with(amount, issued_on) is None

    def problem_with(self, amount: Money, issued_on: dt.date) -> PoProblem | None:
        """Why an invoice of `amount` issued on `issued_on` is not covered by this PO, if it is not."""
        if amount.currency != self.currency:
            return PoProblem.CURRENCY
        status = self.status(issued_on)
        if status is not PoStatus.ACTIVE:
            return PoProblem(status.value)
        if amount.amount_minor > self.remaining().amount_minor:
            return PoProblem.INSUFFICIENT
        return None

    def expiry_notice_due(self, as_of: dt.date) -> bool:
        """Active and expiring within 30 days (valid_to itself included)."""
        return self.status(as_of) is PoStatus.ACTIVE and (self.valid_to - as_of).days <= EXPIRY_NOTICE_DAYS

    def usage_notice_due(self) -> bool:
        """80% or more of the amount invoiced (exhausted included: it was crossed on the way)."""
        return self.used.amount_minor * 100 >= self.amount.amount_minor * USAGE_NOTICE_PERCENT

    def notices_due(self, as_of: dt.date) -> frozenset[PoNotice]:
        due = set()
        if self.expiry_notice_due(as_of):
            due.add(PoNotice.EXPIRES_SOON)
        if self.usage_notice_due():
            due.add(PoNotice.MOSTLY_USED)
        return frozenset(due)


def invoiced_against(po: PurchaseOrder, invoices: Iterable[Invoice]) -> Money:
    """The total of `po`'s account's non-void invoices that carry its number."""
    total = Money.zero(po.currency)
    for invoice in invoices:
        if invoice.account_id == po.account_id and invoice.po_number == po.number and not invoice.is_void:
            total = total + invoice.total  # another currency raises: a PO has one currency
    return total


def po_problem(
    po_number: str | None, amount: Money, issued_on: dt.date, account_pos: Iterable[PurchaseOrder],
) -> PoProblem | None:
    """Why an invoice with `po_number` (or none) is flagged, given the account's POs (with
    their `invoiced` counted before this invoice); None when a valid PO covers it."""
    if not po_number:
        return PoProblem.NONE_GIVEN
    for po in account_pos:
        if po.number == po_number:
            return po.problem_with(amount, issued_on)
    return PoProblem.UNKNOWN
