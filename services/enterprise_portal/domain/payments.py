"""Money received from an enterprise account, split over its invoices, and account credit.

A *receipt* is money received once: a card payment made in the portal, or an offline payment
(bank transfer, check, ACH) a rep records with its reference. `allocate_payment` splits it
over the invoices chosen, before anything is charged or recorded, so the split can be shown
to be confirmed; the split becomes one `Payment` per invoice paid.

The rules of a split (S21: it adds up to the receipt exactly, no invoice goes below zero):

- the invoices are of one account, in the receipt's currency, neither void nor paid;
- an amount asked for an invoice (optional, per invoice) is at least one minor unit and at
  most the invoice's balance, and those asked amounts are given first;
- what is left goes to the other chosen invoices, oldest due date first (then oldest issue
  date, then number), each up to its balance;
- what is still left once the asked amounts are given and the other chosen invoices are
  paid in full is an *overpayment* (an asked amount is never raised on its own). It is
  refused for a card payment (the customer pays what the page shows) and becomes a credit
  on the account for an offline payment (the money has arrived and must be accounted for).

Account credit is spent by `apply_credits` on the next invoice issued (or on any open one),
oldest credit first, never past the invoice's balance.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from billing_common.errors import FailedPrecondition, InvalidArgument
from billing_common.money import Money
from services.enterprise_portal.domain.model import Invoice, Payment

MAX_REFERENCE = 100


def new_id() -> str:
    return str(uuid.uuid4())


class PaymentMethod(StrEnum):
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    CHECK = "check"
    ACH = "ach"

    @property
    def is_offline(self) -> bool:
        return self is not PaymentMethod.CARD


@dataclass(frozen=True, slots=True)
class Receipt:
    """Money received from an account once (the gateway's charge, or a rep's record)."""

    id: str
    account_id: str
    amount: Money
    method: PaymentMethod
    received_at: dt.datetime
    # The bank transfer's, check's or ACH's reference; the gateway's charge id for a card.
    reference: str = ""

    def __post_init__(self) -> None:
        if self.amount.amount_minor <= 0:
            raise InvalidArgument("a payment is a positive amount", field="amount")
        if len(self.reference) > MAX_REFERENCE:
            raise InvalidArgument(f"a reference is at most {MAX_REFERENCE} characters", field="reference")
        if self.method.is_offline and not self.reference.strip():
            raise InvalidArgument("an offline payment needs its reference", field="reference")

    @property
    def received_on(self) -> dt.date:
        return self.received_at.astimezone(dt.UTC).date()


@dataclass(frozen=True, slots=True)
class Credit:
    """Money of the account not (yet) owed on any invoice: an overpayment's rest."""

    id: str
    account_id: str
    amount: Money
    created_at: dt.datetime
    receipt_id: str | None = None
    # Its parts spent on invoices: the invoices' Payments whose credit_id is this credit.
    applications: tuple[Payment, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.amount.amount_minor <= 0:
            raise ValueError("a credit is a positive amount")
        for applied in self.applications:
            if applied.credit_id != self.id or applied.amount.currency != self.currency:
                raise ValueError("a credit's applications come from it and are in its currency")
        if self.remaining().amount_minor < 0:
            raise ValueError("a credit cannot be spent more than once")

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def created_on(self) -> dt.date:
        return self.created_at.astimezone(dt.UTC).date()

    def remaining(self, as_of: dt.date | None = None) -> Money:
        """What is left to spend (at the end of `as_of` when given; nothing before it existed)."""
        if as_of is not None and as_of < self.created_on:
            return Money.zero(self.currency)
        spent = sum(
            (p.amount for p in self.applications if as_of is None or p.received_on <= as_of),
            Money.zero(self.currency),
        )
        return self.amount - spent


@dataclass(frozen=True, slots=True)
class AllocationPart:
    invoice_id: str
    invoice_number: str
    balance_before: Money
    amount: Money  # zero when the payment did not reach this invoice

    @property
    def balance_after(self) -> Money:
        return self.balance_before - self.amount


@dataclass(frozen=True, slots=True)
class Allocation:
    """How a payment splits over the chosen invoices: what the customer confirms."""

    account_id: str
    amount: Money
    parts: tuple[AllocationPart, ...]
    credit: Money  # the overpayment left on the account (zero for a card payment)

    def payments(self, receipt: Receipt, ids: Callable[[], str] = new_id) -> tuple[Payment, ...]:
        """One Payment per invoice the receipt reaches."""
        if receipt.amount != self.amount or receipt.account_id != self.account_id:
            raise ValueError("the receipt is for another amount or account than the allocation")
        return tuple(
            Payment(ids(), part.invoice_id, part.amount, receipt.received_at, receipt_id=receipt.id)
            for part in self.parts if part.amount.amount_minor > 0
        )

    def account_credit(self, receipt: Receipt, ids: Callable[[], str] = new_id) -> Credit | None:
        """The credit the overpayment becomes, if any."""
        if receipt.amount != self.amount or receipt.account_id != self.account_id:
            raise ValueError("the receipt is for another amount or account than the allocation")
        if self.credit.amount_minor == 0:
            return None
        return Credit(ids(), receipt.account_id, self.credit, receipt.received_at, receipt_id=receipt.id)


def _payment_order(invoice: Invoice) -> tuple[dt.date, dt.date, str]:
    return (invoice.due_on, invoice.issued_on, invoice.number)


def allocate_payment(
    amount: Money,
    invoices: Sequence[Invoice],
    requested: Mapping[str, Money] | None = None,
    *,
    overpayment_to_credit: bool = False,
) -> Allocation:
    """Split `amount` over `invoices` (see the module's docstring for the rules).

    `requested` maps some of the invoices' ids to the amount asked for each. With
    `overpayment_to_credit` (offline payments) what exceeds the chosen invoices' balances is
    the allocation's credit; without it, such an amount is refused. Bad input raises
    InvalidArgument naming the field (amount, invoice_ids, amounts, currency); an invoice
    that is void or already paid raises FailedPrecondition (the page was out of date).
    """
    requested = dict(requested or {})
    if amount.amount_minor <= 0:
        raise InvalidArgument("a payment is a positive amount", field="amount")
    if not invoices:
        raise InvalidArgument("choose at least one invoice to pay", field="invoice_ids")
    if len({i.id for i in invoices}) != len(invoices):
        raise InvalidArgument("an invoice is chosen twice", field="invoice_ids")
    if len({i.account_id for i in invoices}) != 1:
        raise InvalidArgument("the invoices are of different accounts", field="invoice_ids")
    for invoice in invoices:
        if invoice.currency != amount.currency:
            raise InvalidArgument(f"invoice {invoice.number} is in {invoice.currency}, not {amount.currency}",
                                  field="currency")
        if invoice.is_void:
            raise FailedPrecondition(f"invoice {invoice.number} is void")
        if invoice.balance().amount_minor == 0:
            raise FailedPrecondition(f"invoice {invoice.number} is already paid")
    by_id = {i.id: i for i in invoices}
    for invoice_id, asked in requested.items():
        if invoice_id not in by_id:
            raise InvalidArgument("an amount is given for an invoice that is not chosen", field="amounts")
        invoice = by_id[invoice_id]
        if asked.currency != amount.currency:
            raise InvalidArgument(f"the amount for {invoice.number} is not in {amount.currency}", field="currency")
        if not 0 < asked.amount_minor <= invoice.balance().amount_minor:
            raise InvalidArgument(f"the amount for {invoice.number} is more than nothing and at most its balance",
                                  field="amounts")
    left = amount.amount_minor - sum(a.amount_minor for a in requested.values())
    if left < 0:
        raise InvalidArgument("the amounts for the invoices add up to more than the payment", field="amount")

    ordered = sorted(invoices, key=_payment_order)
    given: dict[str, int] = {k: v.amount_minor for k, v in requested.items()}
    for invoice in ordered:
        if invoice.id in given:
            continue
        given[invoice.id] = min(left, invoice.balance().amount_minor)
        left -= given[invoice.id]
    if left and not overpayment_to_credit:
        raise InvalidArgument("the payment is more than the chosen invoices' balances", field="amount")
    parts = tuple(
        AllocationPart(i.id, i.number, i.balance(), Money(given[i.id], amount.currency)) for i in ordered
    )
    return Allocation(account_id=invoices[0].account_id, amount=amount, parts=parts,
                      credit=Money(left, amount.currency))


def apply_credits(
    invoice: Invoice, credits: Sequence[Credit], at: dt.datetime, ids: Callable[[], str] = new_id,
) -> tuple[Invoice, tuple[Credit, ...]]:
    """Spend the account's credits on `invoice`, oldest first, up to its balance.

    Answers the invoice with the credits' payments on it and the credits that were spent
    from (with their new applications); credits left untouched are not in the answer.
    """
    if invoice.is_void:
        raise FailedPrecondition(f"invoice {invoice.number} is void")
    changed: list[Credit] = []
    for credit in sorted(credits, key=lambda c: (c.created_at, c.id)):
        if credit.account_id != invoice.account_id:
            raise InvalidArgument("a credit of another account", field="credit_id")
        if credit.currency != invoice.currency:
            raise InvalidArgument(f"credit {credit.id} is not in {invoice.currency}", field="currency")
        spend = min(credit.remaining().amount_minor, invoice.balance().amount_minor)
        if spend == 0:
            continue
        applied = Payment(ids(), invoice.id, Money(spend, invoice.currency), at, credit_id=credit.id)
        invoice = invoice.with_payment(applied)
        changed.append(replace(credit, applications=(*credit.applications, applied)))
    return invoice, tuple(changed)
