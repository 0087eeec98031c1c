"""One payment over several invoices, overpayments as account credit, credits spent (S21)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from billing_common.errors import FailedPrecondition, InvalidArgument
from billing_common.money import Money
from services.enterprise_portal.domain.model import Invoice, InvoiceStatus
from services.enterprise_portal.domain.payments import (
    Credit,
    PaymentMethod,
    Receipt,
    allocate_payment,
    apply_credits,
)
from tests.unit.enterprise_portal.factories import invoice

AT = dt.datetime(2026, 4, 2, 15, tzinfo=dt.UTC)


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def receipt(minor: int, method: PaymentMethod = PaymentMethod.BANK_TRANSFER, account_id: str = "acct-1") -> Receipt:
    return Receipt("rcpt-1", account_id, usd(minor), method, AT, reference="WIRE-20260402-77")


def three_invoices() -> tuple[Invoice, Invoice, Invoice]:
    # Due 31 March, 30 April and 31 May: the oldest is paid first.
    return (
        invoice(total_minor=50_000, issued_on=dt.date(2026, 4, 1), number="INV-3"),
        invoice(total_minor=30_000, issued_on=dt.date(2026, 3, 1), number="INV-1", paid_minor=(10_000,)),
        invoice(total_minor=40_000, issued_on=dt.date(2026, 3, 31), number="INV-2"),
    )


def test_a_payment_pays_the_chosen_invoices_oldest_due_first() -> None:
    allocation = allocate_payment(usd(50_000), three_invoices())
    assert [(p.invoice_number, p.amount.amount_minor, p.balance_after.amount_minor) for p in allocation.parts] == [
        ("INV-1", 20_000, 0), ("INV-2", 30_000, 10_000), ("INV-3", 0, 50_000)]
    assert allocation.credit == usd(0)


def test_amounts_asked_per_invoice_come_first_and_the_rest_fills_the_others() -> None:
    inv3, inv1, inv2 = three_invoices()
    allocation = allocate_payment(usd(60_000), (inv3, inv1, inv2), {inv3.id: usd(45_000)})
    assert {p.invoice_number: p.amount.amount_minor for p in allocation.parts} == {
        "INV-1": 15_000, "INV-2": 0, "INV-3": 45_000}


def test_paying_one_invoice_in_part() -> None:
    inv = invoice(total_minor=84_000)
    allocation = allocate_payment(usd(24_000), [inv])
    assert [(p.amount, p.balance_after) for p in allocation.parts] == [(usd(24_000), usd(60_000))]


def test_a_card_payment_above_the_chosen_balances_is_refused() -> None:
    with pytest.raises(InvalidArgument) as refused:
        allocate_payment(usd(110_001), three_invoices())
    assert refused.value.field == "amount"


def test_an_offline_overpayment_becomes_a_credit_on_the_account() -> None:
    allocation = allocate_payment(usd(115_000), three_invoices(), overpayment_to_credit=True)
    assert allocation.credit == usd(5_000)
    assert all(p.balance_after == usd(0) for p in allocation.parts)
    wire = receipt(115_000)
    credit = allocation.account_credit(wire, ids=lambda: "cr-1")
    assert credit is not None
    assert (credit.id, credit.account_id, credit.amount, credit.receipt_id) == ("cr-1", "acct-1", usd(5_000), "rcpt-1")
    payments = allocation.payments(wire)
    assert sum(p.amount.amount_minor for p in payments) == 110_000
    assert {p.receipt_id for p in payments} == {"rcpt-1"}


@pytest.mark.parametrize("case, field", [
    ("zero amount", "amount"),
    ("no invoices", "invoice_ids"),
    ("twice", "invoice_ids"),
    ("two accounts", "invoice_ids"),
    ("euro invoice", "currency"),
    ("asked for an invoice not chosen", "amounts"),
    ("asked more than the balance", "amounts"),
    ("asked zero", "amounts"),
    ("asked in euros", "currency"),
    ("asked more than the payment", "amount"),
])
def test_a_bad_allocation_is_refused_naming_the_field(case: str, field: str) -> None:
    inv = invoice(total_minor=1_000)
    calls = {
        "zero amount": lambda: allocate_payment(usd(0), [inv]),
        "no invoices": lambda: allocate_payment(usd(1), []),
        "twice": lambda: allocate_payment(usd(1), [inv, inv]),
        "two accounts": lambda: allocate_payment(usd(1), [inv, invoice("acct-2")]),
        "euro invoice": lambda: allocate_payment(usd(1), [inv, invoice(currency="EUR")]),
        "asked for an invoice not chosen": lambda: allocate_payment(usd(1), [inv], {"other": usd(1)}),
        "asked more than the balance": lambda: allocate_payment(usd(2_000), [inv], {inv.id: usd(1_001)}),
        "asked zero": lambda: allocate_payment(usd(1), [inv], {inv.id: usd(0)}),
        "asked in euros": lambda: allocate_payment(usd(1), [inv], {inv.id: Money(1, "EUR")}),
        "asked more than the payment": lambda: allocate_payment(usd(1), [inv], {inv.id: usd(2)}),
    }
    with pytest.raises(InvalidArgument) as refused:
        calls[case]()
    assert refused.value.field == field


def test_a_void_or_paid_invoice_cannot_be_chosen() -> None:
    with pytest.raises(FailedPrecondition):
        allocate_payment(usd(1), [invoice(status=InvoiceStatus.VOID)])
    with pytest.raises(FailedPrecondition):
        allocate_payment(usd(1), [invoice(total_minor=5, paid_minor=(5,), status=InvoiceStatus.PAID)])


def test_an_offline_payment_needs_its_reference_and_a_card_payment_does_not() -> None:
    with pytest.raises(InvalidArgument) as refused:
        Receipt("r", "acct-1", usd(1), PaymentMethod.CHECK, AT, reference=" ")
    assert refused.value.field == "reference"
    assert Receipt("r", "acct-1", usd(1), PaymentMethod.CARD, AT).reference == ""


def test_credit_is_spent_on_the_next_invoice_oldest_credit_first() -> None:
    older = Credit("cr-old", "acct-1", usd(3_000), AT - dt.timedelta(days=9))
    newer = Credit("cr-new", "acct-1", usd(5_000), AT)
    next_invoice = invoice(total_minor=6_000, issued_on=dt.date(2026, 4, 3))
    paid, spent = apply_credits(next_invoice, [newer, older], AT + dt.timedelta(days=1))
    assert paid.balance() == usd(0) and paid.status is InvoiceStatus.PAID
    assert [(c.id, c.remaining().amount_minor) for c in spent] == [("cr-old", 0), ("cr-new", 2_000)]
    assert {p.credit_id for p in paid.payments} == {"cr-old", "cr-new"}


def test_credit_larger_than_the_invoice_stays_on_the_account_for_the_one_after() -> None:
    credit = Credit("cr", "acct-1", usd(10_000), AT)
    first, (credit,) = apply_credits(invoice(total_minor=4_000), [credit], AT)
    second, (credit,) = apply_credits(invoice(total_minor=4_000), [credit], AT)
    third, (credit,) = apply_credits(invoice(total_minor=4_000), [credit], AT)
    assert [i.balance().amount_minor for i in (first, second, third)] == [0, 0, 2_000]
    assert credit.remaining() == usd(0)
    assert apply_credits(invoice(total_minor=4_000), [credit], AT)[1] == ()


def test_a_credit_of_another_account_is_not_spent() -> None:
    with pytest.raises(InvalidArgument):
        apply_credits(invoice("acct-1"), [Credit("cr", "acct-2", usd(1), AT)], AT)


_balances = st.lists(st.tuples(st.integers(1, 10**9), st.integers(0, 10**9)), min_size=1, max_size=8)


def invoices_from(drafts: list[tuple[int, int]]) -> list[Invoice]:
    """Invoices with a balance (total, and an amount already paid below it), due on various days."""
    made = []
    for n, (balance, paid) in enumerate(drafts):
        made.append(invoice(total_minor=balance + paid, paid_minor=(paid,) if paid else (),
                            issued_on=dt.date(2026, 1, 1) + dt.timedelta(days=(n * 7919) % 97)))
    return made


@given(_balances, st.integers(1, 10**10), st.booleans(), st.data())
def test_a_split_adds_up_to_the_payment_exactly_and_no_invoice_goes_below_zero(
    drafts: list[tuple[int, int]], amount: int, offline: bool, data: st.DataObject,
) -> None:
    invoices = invoices_from(drafts)
    asked = {}
    for inv in data.draw(st.lists(st.sampled_from(invoices), unique_by=lambda i: i.id, max_size=3)):
        asked[inv.id] = usd(data.draw(st.integers(1, inv.balance().amount_minor)))
    asked_sum = sum(a.amount_minor for a in asked.values())
    assume(asked_sum <= amount)
    # What the payment can reach: the asked amounts, and the other invoices in full.
    reachable = asked_sum + sum(i.balance().amount_minor for i in invoices if i.id not in asked)
    assume(offline or amount <= reachable)

    allocation = allocate_payment(usd(amount), invoices, asked, overpayment_to_credit=offline)

    assert sum(p.amount.amount_minor for p in allocation.parts) + allocation.credit.amount_minor == amount
    assert all(0 <= p.amount.amount_minor <= p.balance_before.amount_minor for p in allocation.parts)
    assert all(p.balance_after.amount_minor >= 0 for p in allocation.parts)
    given = {p.invoice_id: p.amount for p in allocation.parts}
    assert all(given[invoice_id] == asked_amount for invoice_id, asked_amount in asked.items())
    # The others are paid oldest due first: once one is not paid in full, no later one gets anything.
    others = [p for p in allocation.parts if p.invoice_id not in asked]
    for earlier, later in itertools.pairwise(others):
        assert earlier.balance_after.amount_minor == 0 or later.amount.amount_minor == 0
    # Credit only for what the asked amounts and the other invoices' balances cannot take.
    assert allocation.credit.amount_minor == max(0, amount - reachable)
    # Applying the payments leaves every invoice at its balance after, none below zero.
    by_id = {i.id: i for i in invoices}
    counter = itertools.count()
    for payment in allocation.payments(receipt(amount), ids=lambda: f"pay-{next(counter)}"):
        by_id[payment.invoice_id] = by_id[payment.invoice_id].with_payment(payment)
    assert [by_id[p.invoice_id].balance() for p in allocation.parts] == [p.balance_after for p in allocation.parts]


@given(st.lists(st.integers(1, 10**8), min_size=0, max_size=6), st.integers(0, 10**9))
def test_credits_spent_never_exceed_the_invoice_or_the_credits(credit_amounts: list[int], total: int) -> None:
    credits = [Credit(f"cr-{n}", "acct-1", usd(a), AT + dt.timedelta(minutes=n)) for n, a in enumerate(credit_amounts)]
    paid, spent = apply_credits(invoice(total_minor=total), credits, AT)
    applied = total - paid.balance().amount_minor
    assert applied == min(total, sum(credit_amounts))
    assert sum(c.amount.amount_minor - c.remaining().amount_minor for c in spent) == applied
    assert all(c.remaining().amount_minor >= 0 for c in spent)
    assert dataclasses.replace(paid).balance().amount_minor >= 0


def test_an_asked_amount_is_never_raised_and_an_offline_rest_becomes_credit() -> None:
    inv = invoice(total_minor=1_000)
    allocation = allocate_payment(usd(1_500), [inv], {inv.id: usd(400)}, overpayment_to_credit=True)
    assert ([p.amount for p in allocation.parts], allocation.credit) == ([usd(400)], usd(1_100))
    with pytest.raises(InvalidArgument):
        allocate_payment(usd(1_500), [inv], {inv.id: usd(400)})


def test_a_receipt_of_another_account_cannot_take_an_allocation() -> None:
    allocation = allocate_payment(usd(500), [invoice("acct-1", total_minor=1_000)])
    with pytest.raises(ValueError):
        allocation.payments(Receipt("r", "acct-2", usd(500), PaymentMethod.CARD, AT))
