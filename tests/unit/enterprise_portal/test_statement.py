"""The statement of account: entries, opening and closing balances, aging as of a date."""
from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_common.errors import InvalidArgument
from billing_common.money import Money
from services.enterprise_portal.domain.model import Invoice, InvoiceStatus
from services.enterprise_portal.domain.payments import (
    Credit,
    PaymentMethod,
    Receipt,
    allocate_payment,
    apply_credits,
)
from services.enterprise_portal.domain.statement import (
    EntryKind,
    EntryPage,
    StatementEntry,
    aging,
    page_of_entries,
    statement,
)
from tests.unit.enterprise_portal.factories import invoice


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def pay(invoices: list[Invoice], minor: int, on: dt.date, ref: str) -> tuple[list[Invoice], Receipt, Credit | None]:
    """Record an offline payment of `minor` over `invoices` on `on`, as the rep would."""
    receipt = Receipt(f"r-{ref}", "acct-1", usd(minor), PaymentMethod.BANK_TRANSFER, at(on), reference=ref)
    allocation = allocate_payment(receipt.amount, invoices, overpayment_to_credit=True)
    counter = itertools.count()
    by_id = {i.id: i for i in invoices}
    for payment in allocation.payments(receipt, ids=lambda: f"p-{ref}-{next(counter)}"):
        by_id[payment.invoice_id] = by_id[payment.invoice_id].with_payment(payment)
    return [by_id[i.id] for i in invoices], receipt, allocation.account_credit(receipt, ids=lambda: f"cr-{ref}")


def test_a_statement_lists_the_periods_invoices_payments_and_credits_with_running_balances() -> None:
    jan = invoice(total_minor=100_000, issued_on=dt.date(2026, 1, 5), number="INV-1")  # due 4 Feb
    feb = invoice(total_minor=50_000, issued_on=dt.date(2026, 2, 10), number="INV-2")  # due 12 Mar
    void = invoice(total_minor=7_000, issued_on=dt.date(2026, 2, 11), number="INV-V", status=InvoiceStatus.VOID)
    (jan,), first, _ = pay([jan], 40_000, dt.date(2026, 1, 20), "WIRE-1")
    (jan, feb), second, credit = pay([jan, feb], 120_000, dt.date(2026, 2, 20), "WIRE-2")
    assert credit is not None and credit.amount == usd(10_000)
    mar = invoice(total_minor=25_000, issued_on=dt.date(2026, 3, 2), number="INV-3")
    mar, (credit,) = apply_credits(mar, [credit], at(dt.date(2026, 3, 2)), ids=lambda: "p-credit")

    result = statement("acct-1", "USD", dt.date(2026, 2, 1), dt.date(2026, 3, 31),
                       [jan, feb, void, mar], [first, second], [credit])

    assert result.opening_balance == usd(60_000)  # INV-1 less WIRE-1
    assert [(e.on.isoformat(), e.kind, e.reference, e.change.amount_minor, e.balance.amount_minor)
            for e in result.entries] == [
        ("2026-02-10", EntryKind.INVOICE, "INV-2", 50_000, 110_000),
        ("2026-02-20", EntryKind.PAYMENT, "WIRE-2", -120_000, -10_000),
        ("2026-02-20", EntryKind.CREDIT, "cr-WIRE-2", 0, -10_000),
        ("2026-03-02", EntryKind.INVOICE, "INV-3", 25_000, 15_000),
        ("2026-03-02", EntryKind.CREDIT_APPLIED, "cr-WIRE-2", 0, 15_000),
    ]
    assert result.entries[-1].invoice_number == "INV-3"
    assert result.closing_balance == usd(15_000)
    assert result.unapplied_credit == usd(0)
    assert result.aging.total == usd(15_000)  # INV-3, due 1 April: not yet due on 31 March
    assert result.aging.current == usd(15_000)


def test_the_aging_buckets_by_days_past_due_on_the_as_of_day() -> None:
    as_of = dt.date(2026, 6, 30)
    invoices = [  # NET 30: due 30 days after issue
        invoice(total_minor=1, issued_on=as_of - dt.timedelta(days=30)),  # due today: not yet due
        invoice(total_minor=10, issued_on=as_of - dt.timedelta(days=31)),  # 1 day past due
        invoice(total_minor=100, issued_on=as_of - dt.timedelta(days=60)),  # 30
        invoice(total_minor=1_000, issued_on=as_of - dt.timedelta(days=61)),  # 31
        invoice(total_minor=10_000, issued_on=as_of - dt.timedelta(days=120)),  # 90
        invoice(total_minor=100_000, issued_on=as_of - dt.timedelta(days=121)),  # 91
        invoice(total_minor=1_000_000, issued_on=as_of - dt.timedelta(days=200), status=InvoiceStatus.VOID),
        invoice(total_minor=5, issued_on=as_of - dt.timedelta(days=200), paid_minor=(5,), status=InvoiceStatus.PAID),
        invoice(total_minor=2_000_000, issued_on=as_of + dt.timedelta(days=1)),  # not issued yet
    ]
    result = aging(invoices, as_of, "USD")
    assert [m.amount_minor for m in (result.current, result.days_1_30, result.days_31_60, result.days_61_90,
                                     result.over_90)] == [1, 110, 1_000, 10_000, 100_000]
    assert result.total == usd(111_111)


def test_a_goodwill_credit_lowers_the_balance_when_it_is_made() -> None:
    inv = invoice(total_minor=10_000, issued_on=dt.date(2026, 1, 5))
    goodwill = Credit("cr-gw", "acct-1", usd(2_500), at(dt.date(2026, 1, 6)))
    result = statement("acct-1", "USD", dt.date(2026, 1, 1), dt.date(2026, 1, 31), [inv], [], [goodwill])
    assert result.closing_balance == usd(7_500)
    assert result.closing_balance == result.aging.total - result.unapplied_credit


def test_a_payment_stored_before_receipts_existed_counts_on_its_own() -> None:
    inv = invoice(total_minor=10_000, paid_minor=(4_000,), issued_on=dt.date(2026, 3, 1))  # paid 10 March
    result = statement("acct-1", "USD", dt.date(2026, 3, 1), dt.date(2026, 3, 31), [inv], [], [])
    assert [e.kind for e in result.entries] == [EntryKind.INVOICE, EntryKind.PAYMENT]
    assert result.closing_balance == usd(6_000) == result.aging.total


@pytest.mark.parametrize("call, field", [
    (lambda: statement("acct-1", "USD", dt.date(2026, 2, 1), dt.date(2026, 1, 31), [], [], []), "end"),
    (lambda: statement("acct-1", "USD", dt.date(2026, 1, 1), dt.date(2026, 1, 31), [invoice("acct-2")], [], []),
     "account_id"),
    (lambda: statement("acct-1", "EUR", dt.date(2026, 1, 1), dt.date(2026, 12, 31), [invoice()], [], []),
     "currency"),
])
def test_a_bad_statement_request_is_refused_naming_the_field(call: object, field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        call()  # type: ignore[operator]
    assert refused.value.field == field


_events = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), st.integers(0, 200), st.integers(1, 10**7)),
        st.tuples(st.just("payment"), st.integers(0, 200), st.integers(1, 2 * 10**7)),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(_events, st.integers(0, 250), st.integers(0, 250), st.sampled_from(["NET 30", "NET 60", "EOM"]))
def test_the_buckets_add_up_to_the_balance_whatever_happened(
    events: list[tuple[str, int, int]], a: int, b: int, terms: str,
) -> None:
    """Invoices issued and offline payments (overpayments becoming credit, credit spent on
    each new invoice) on random days: the statement's closing balance is the buckets less
    the unspent credit, the running balances chain, and the opening balance is the closing
    balance of a statement ending the day before."""
    base = dt.date(2026, 1, 1)
    invoices: list[Invoice] = []
    receipts: list[Receipt] = []
    credits: list[Credit] = []
    day = base
    for n, (kind, gap, minor) in enumerate(sorted(events, key=lambda e: e[1])):
        day = base + dt.timedelta(days=gap)
        if kind == "invoice":
            new = dataclasses.replace(invoice(total_minor=minor, issued_on=day, terms=terms), number=f"INV-{n:03}")
            spent: tuple[Credit, ...] = ()
            if credits:
                new, spent = apply_credits(new, credits, at(day), ids=lambda n=n: f"pc-{n}")
            by_id = {c.id: c for c in spent}
            credits = [by_id.get(c.id, c) for c in credits]
            invoices.append(new)
        else:
            open_ones = [i for i in invoices if i.balance().amount_minor > 0]
            if not open_ones:
                receipt = Receipt(f"r-{n}", "acct-1", usd(minor), PaymentMethod.CHECK, at(day), reference=f"CHK-{n}")
                receipts.append(receipt)
                credits.append(Credit(f"cr-{n}", "acct-1", usd(minor), at(day), receipt_id=receipt.id))
                continue
            paid, receipt, credit = pay(open_ones, minor, day, f"CHK-{n}")
            by_id = {i.id: i for i in paid}
            invoices = [by_id.get(i.id, i) for i in invoices]
            receipts.append(receipt)
            if credit is not None:
                credits.append(credit)
    start, end = base + dt.timedelta(days=min(a, b)), base + dt.timedelta(days=max(a, b))

    result = statement("acct-1", "USD", start, end, invoices, receipts, credits)

    assert result.closing_balance == result.aging.total - result.unapplied_credit
    assert result.aging.total == sum((i.balance(end) for i in invoices), usd(0))
    running = result.opening_balance
    for entry in result.entries:
        running = running + entry.change
        assert entry.balance == running
        assert start <= entry.on <= end
    assert running == result.closing_balance
    before = statement("acct-1", "USD", base - dt.timedelta(days=1), start - dt.timedelta(days=1),
                       invoices, receipts, credits)
    assert before.closing_balance == result.opening_balance
    assert all(m.amount_minor >= 0 for m in (result.aging.current, result.aging.days_1_30, result.aging.days_31_60,
                                             result.aging.days_61_90, result.aging.over_90))


def _entries(count: int) -> tuple[StatementEntry, ...]:
    """`count` entries over a few days, with ties on day, kind and reference (a credit spent
    twice a day) that only the cursor's rank tells apart."""
    day = dt.date(2026, 1, 1)
    kinds = [EntryKind.INVOICE, EntryKind.PAYMENT, EntryKind.CREDIT_APPLIED, EntryKind.CREDIT_APPLIED]
    made = [StatementEntry(day + dt.timedelta(days=n // 4), kinds[n % 4], "same" if n % 4 > 1 else f"R{n:03d}",
                           usd(100), usd(0), usd(n)) for n in range(count)]
    return tuple(sorted(made, key=lambda e: (e.on, e.kind != EntryKind.INVOICE, e.kind != EntryKind.PAYMENT)))


@given(count=st.integers(0, 40), size=st.integers(1, 9))
@settings(max_examples=60, deadline=None)
def test_statement_pages_walk_every_entry_once_both_ways(count: int, size: int) -> None:
    entries = _entries(count)
    first = page_of_entries(entries, size)
    assert first.entries == entries[-size:] if count else first.entries == ()
    assert first.newer is None and first.total == count
    seen, page = list(first.entries), first
    while page.older:
        page = page_of_entries(entries, size, before=page.older)
        assert 0 < len(page.entries) <= size
        seen[:0] = page.entries
    assert tuple(seen) == entries
    back = list(page.entries)
    while page.newer:
        page = page_of_entries(entries, size, after=page.newer)
        back += page.entries
    assert tuple(back) == entries


def test_a_page_size_of_zero_is_every_entry_and_a_bad_cursor_names_its_field() -> None:
    entries = _entries(7)
    assert page_of_entries(entries, 0) == EntryPage(entries, None, None, 7)
    with pytest.raises(InvalidArgument) as refused:
        page_of_entries(entries, 3, before="not a cursor")
    assert refused.value.field == "before"
    with pytest.raises(InvalidArgument) as refused:
        page_of_entries(entries, 3, after="2026-13-01~0~0~x")
    assert refused.value.field == "after"
