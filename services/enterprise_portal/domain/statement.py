"""The statement of account of an enterprise account over a period, with aging (plain Python).

The account's balance is what it owes: its invoices (void ones are left out, as if never
issued) less the money received from it. Money received is a receipt (its whole amount, the
part that became account credit included, on the day it was received); a payment stored
before receipts existed (no receipt_id and no credit_id) counts on its own. A credit made
from a receipt's overpayment and a credit spent on an invoice are listed for the reader but
move no money (the receipt already did); a credit with no receipt (a rep's goodwill credit)
lowers the balance when it is created.

The statement covers the days `start` to `end`, both included: the opening balance is that
of the end of the day before `start`; each entry shows the running balance; the closing
balance is that of the end of `end`. Within one day invoices come before payments and
credits, each in the order of their reference.

Aging is as of `end`: each invoice's balance at the end of that day goes in one bucket by
days past its due date (0 = not yet due, the due day included; then 1-30, 31-60, 61-90,
over 90). The buckets add up to what the invoices owe; the closing balance is that less the
credit not yet spent, so for consistent records `closing == aging.total - unapplied_credit`.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from billing_common.errors import InvalidArgument
from billing_common.money import Money
from services.enterprise_portal.domain.model import Invoice
from services.enterprise_portal.domain.payments import Credit, Receipt


class EntryKind(StrEnum):
    INVOICE = "invoice"
    PAYMENT = "payment"
    CREDIT = "credit"  # an overpayment's rest (or a goodwill credit) put on the account
    CREDIT_APPLIED = "credit_applied"  # credit spent on an invoice


_KIND_ORDER = {EntryKind.INVOICE: 0, EntryKind.PAYMENT: 1, EntryKind.CREDIT: 2, EntryKind.CREDIT_APPLIED: 3}


@dataclass(frozen=True, slots=True)
class StatementEntry:
    on: dt.date
    kind: EntryKind
    reference: str  # the invoice number, the payment's reference (or id), the credit's id
    amount: Money  # the entry's own amount, always positive
    change: Money  # what it does to the balance: + an invoice, - money received, 0 informative
    balance: Money  # the balance after it
    invoice_number: str | None = None  # the invoice a credit was spent on


@dataclass(frozen=True, slots=True)
class Aging:
    as_of: dt.date
    current: Money  # not yet due
    days_1_30: Money
    days_31_60: Money
    days_61_90: Money
    over_90: Money

    @property
    def total(self) -> Money:
        return self.current + self.days_1_30 + self.days_31_60 + self.days_61_90 + self.over_90


def aging(invoices: Sequence[Invoice], as_of: dt.date, currency: str) -> Aging:
    """What `invoices` owe at the end of `as_of`, by days past due."""
    buckets = [0, 0, 0, 0, 0]
    for invoice in invoices:
        if invoice.currency != currency:
            raise InvalidArgument(f"invoice {invoice.number} is not in {currency}", field="currency")
        owed = invoice.balance(as_of).amount_minor
        if owed:
            buckets[_bucket(invoice.days_past_due(as_of))] += owed
    current, d30, d60, d90, over = (Money(b, currency) for b in buckets)
    return Aging(as_of, current, d30, d60, d90, over)


def _bucket(days_past_due: int) -> int:
    if days_past_due <= 0:
        return 0
    if days_past_due <= 30:
        return 1
    if days_past_due <= 60:
        return 2
    if days_past_due <= 90:
        return 3
    return 4


@dataclass(frozen=True, slots=True)
class Statement:
    account_id: str
    currency: str
    start: dt.date
    end: dt.date
    opening_balance: Money
    entries: tuple[StatementEntry, ...]
    closing_balance: Money
    aging: Aging
    unapplied_credit: Money  # credit on the account at the end of `end`, not yet spent


def _ledger(
    invoices: Sequence[Invoice], receipts: Sequence[Receipt], credits: Sequence[Credit], currency: str,
) -> list[tuple[dt.date, EntryKind, str, Money, int, str | None]]:
    """Every movement: (day, kind, reference, amount, change in minor units, invoice number)."""
    zero = Money.zero(currency)
    moves: list[tuple[dt.date, EntryKind, str, Money, int, str | None]] = []
    numbers = {i.id: i.number for i in invoices}
    for invoice in invoices:
        if invoice.is_void:
            continue
        moves.append((invoice.issued_on, EntryKind.INVOICE, invoice.number, invoice.total,
                      invoice.total.amount_minor, None))
        for payment in invoice.payments:
            if payment.receipt_id is None and payment.credit_id is None:
                moves.append((payment.received_on, EntryKind.PAYMENT, payment.id, payment.amount,
                              -payment.amount.amount_minor, invoice.number))
    for receipt in receipts:
        moves.append((receipt.received_on, EntryKind.PAYMENT, receipt.reference or receipt.id, receipt.amount,
                      -receipt.amount.amount_minor, None))
    for credit in credits:
        change = 0 if credit.receipt_id is not None else -credit.amount.amount_minor
        moves.append((credit.created_on, EntryKind.CREDIT, credit.id, credit.amount, change, None))
        for applied in credit.applications:
            moves.append((applied.received_on, EntryKind.CREDIT_APPLIED, credit.id, applied.amount, 0,
                          numbers.get(applied.invoice_id)))
    for _, _, _, amount, _, _ in moves:
        if amount.currency != zero.currency:
            raise InvalidArgument(f"the account's records are in {currency}", field="currency")
    moves.sort(key=lambda m: (m[0], _KIND_ORDER[m[1]], m[2]))
    return moves


def statement(
    account_id: str,
    currency: str,
    start: dt.date,
    end: dt.date,
    invoices: Sequence[Invoice],
    receipts: Sequence[Receipt],
    credits: Sequence[Credit],
) -> Statement:
    """The statement of `account_id` for the days `start` to `end` (see the module's docstring).

    `invoices`, `receipts` and `credits` are the account's, up to `end` at least (later ones
    are left out); anything of another account is refused.
    """
    if end < start:
        raise InvalidArgument("a statement's period ends on or after the day it starts", field="end")
    for owner in [*(i.account_id for i in invoices), *(r.account_id for r in receipts),
                  *(c.account_id for c in credits)]:
        if owner != account_id:
            raise InvalidArgument("a record of another account", field="account_id")
    opening, entries, running = 0, [], 0
    for on, kind, reference, amount, change, invoice_number in _ledger(invoices, receipts, credits, currency):
        if on > end:
            break
        running += change
        if on < start:
            opening = running
            continue
        entries.append(StatementEntry(on, kind, reference, amount, Money(change, currency), Money(running, currency),
                                      invoice_number))
    unapplied = sum((c.remaining(end) for c in credits), Money.zero(currency))
    return Statement(
        account_id=account_id, currency=currency, start=start, end=end,
        opening_balance=Money(opening, currency), entries=tuple(entries),
        closing_balance=Money(running, currency), aging=aging(invoices, end, currency),
        unapplied_credit=unapplied,
    )


@dataclass(frozen=True, slots=True)
class EntryPage:
    """Some consecutive entries of a statement, in their order, with the cursors of the pages
    before (`older`) and after (`newer`) them, None at either end of the period."""
    entries: tuple[StatementEntry, ...]
    older: str | None
    newer: str | None
    total: int  # entries in the whole period


def _keys(entries: Sequence[StatementEntry]) -> list[tuple[dt.date, int, str, int]]:
    """Each entry's place in the ledger's order (day, kind, reference), with its rank among
    entries of the same three (a credit spent twice in a day) so that every key is unique."""
    keys: list[tuple[dt.date, int, str, int]] = []
    for e in entries:
        key = (e.on, _KIND_ORDER[e.kind], e.reference)
        rank = keys[-1][3] + 1 if keys and keys[-1][:3] == key else 0
        keys.append((*key, rank))
    return keys


def _cursor(key: tuple[dt.date, int, str, int]) -> str:
    return f"{key[0].isoformat()}~{key[1]}~{key[3]}~{key[2]}"


def parse_cursor(text: str, field: str) -> tuple[dt.date, int, str, int]:
    """A cursor written by `page_of_entries`; InvalidArgument naming `field` otherwise."""
    try:
        day, kind, rank, reference = text.split("~", 3)
        return dt.date.fromisoformat(day), int(kind), reference, int(rank)
    except ValueError:
        raise InvalidArgument("not a statement page's cursor", field=field) from None


def page_of_entries(entries: Sequence[StatementEntry], size: int, *, before: str = "", after: str = ""
                    ) -> EntryPage:
    """Up to `size` entries (all of them when `size` is 0): those just before the cursor
    `before`, else just after `after`, else the period's newest. Cursors are keys, not
    positions, so a page stays where it was while newer entries are added."""
    keys = _keys(entries)
    count = len(entries)
    if before:
        stop = bisect_left(keys, parse_cursor(before, "before"))
        begin = max(0, stop - size) if size else 0
    elif after:
        begin = bisect_right(keys, parse_cursor(after, "after"))
        stop = min(count, begin + size) if size else count
    else:
        stop = count
        begin = max(0, stop - size) if size else 0
    if begin >= stop and count:
        # A cursor past either end (the period was changed meanwhile): that end's page.
        begin, stop = (0, min(count, size or count)) if before else (max(0, count - (size or count)), count)
    return EntryPage(
        entries=tuple(entries[begin:stop]),
        older=_cursor(keys[begin]) if begin > 0 else None,
        newer=_cursor(keys[stop - 1]) if 0 < stop < count else None,
        total=count)
