"""The in-memory fakes (adapters/memory.py) and the SQL repositories answer alike: the same
checks on both, the SQL ones on a real migrated database (PostgreSQL with TEST_DATABASE_URL)."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from billing_common.money import Money
from services.enterprise_portal.adapters.memory import InMemoryUnitOfWork
from services.enterprise_portal.adapters.unit_of_work import SqlEnterprisePortalUnitOfWork
from services.enterprise_portal.domain.lines import Line, LineKind
from services.enterprise_portal.domain.model import Invoice, InvoiceStatus, Payment
from services.enterprise_portal.domain.payments import Credit, PaymentMethod, Receipt
from services.enterprise_portal.domain.purchase_orders import PoNotice, PurchaseOrder
from services.enterprise_portal.domain.quotes import Quote, QuoteStatus, QuoteVersion
from services.enterprise_portal.service_layer.ports import CardPayment, CardPaymentStatus

AT = dt.datetime(2027, 1, 15, 12, tzinfo=dt.UTC)


@pytest.fixture(params=["memory", "sql"])
def make_uow(request: pytest.FixtureRequest, engine: Engine) -> Callable[[], Any]:
    if request.param == "memory":
        shared = InMemoryUnitOfWork()
        return lambda: shared
    return lambda: SqlEnterprisePortalUnitOfWork(engine)


def _invoice(account: str, number: str, issued: dt.date, minor: int = 1_000, po: str | None = None,
             status: InvoiceStatus = InvoiceStatus.OPEN) -> Invoice:
    amount = Money(minor, "USD")
    return Invoice(str(uuid.uuid4()), account, number, amount, issued, issued + dt.timedelta(days=30), "NET 30",
                   status, po, lines=(Line(LineKind.CUSTOM, "Seats", 1, amount),))


def test_invoices_read_back_with_lines_and_page_newest_first(make_uow: Callable[[], Any]) -> None:
    day = dt.date(2027, 1, 1)
    made = [_invoice("a", f"EP-{n:03d}", day + dt.timedelta(days=n // 2)) for n in range(7)]
    with make_uow() as uow:
        for i in made:
            uow.invoices.add(i, "expired" if i.number == "EP-003" else None)
        uow.invoices.add(_invoice("b", "EP-999", day))
        uow.commit()
    with make_uow() as uow:
        first = uow.invoices.page("a", 3)
        last = first.invoices[-1]
        second = uow.invoices.page("a", 3, (last.issued_on, last.number))
        third = uow.invoices.page("a", 3, (second.invoices[-1].issued_on, second.invoices[-1].number))
        assert [i.number for i in first.invoices] == ["EP-006", "EP-005", "EP-004"]
        assert [i.number for i in second.invoices] == ["EP-003", "EP-002", "EP-001"]
        assert second.flags == {made[3].id: "expired"}
        assert ([i.number for i in third.invoices], third.has_more, first.has_more) == (["EP-000"], False, True)
        assert uow.invoices.count("a") == 7
        assert uow.invoices.get("a", made[0].id) == made[0]
        assert uow.invoices.get("b", made[0].id) is None  # S13
        assert uow.invoices.get_many("a", [made[1].id, made[2].id, "nope"]) != []


def test_payments_receipts_and_credits_read_back(make_uow: Callable[[], Any]) -> None:
    invoice = _invoice("a", "EP-1", dt.date(2027, 1, 1), 5_000)
    receipt = Receipt(str(uuid.uuid4()), "a", Money(7_000, "USD"), PaymentMethod.CHECK, AT, "CHK-1")
    credit = Credit(str(uuid.uuid4()), "a", Money(2_000, "USD"), AT, receipt_id=receipt.id)
    paid = Payment(str(uuid.uuid4()), invoice.id, Money(5_000, "USD"), AT, receipt_id=receipt.id)
    with make_uow() as uow:
        uow.invoices.add(invoice)
        uow.receipts.add(receipt, "rep-1")
        uow.credits.add(credit)
        uow.invoices.add_payments([paid])
        uow.invoices.set_status(invoice.id, InvoiceStatus.PAID)
        uow.commit()
    later = _invoice("a", "EP-2", dt.date(2027, 1, 2), 3_000)
    spent = Payment(str(uuid.uuid4()), later.id, Money(2_000, "USD"), AT, credit_id=credit.id)
    with make_uow() as uow:
        uow.invoices.add(later)
        uow.invoices.add_payments([spent])
        uow.commit()
    with make_uow() as uow:
        assert uow.invoices.get("a", invoice.id).status is InvoiceStatus.PAID
        assert uow.invoices.get("a", later.id).payments == (spent,)
        [stored] = uow.credits.for_account("a")
        assert (stored.remaining(), stored.applications) == (Money(0, "USD"), (spent,))
        assert uow.receipts.received_until("a", AT.date()) == [receipt]
        assert uow.receipts.received_until("a", AT.date() - dt.timedelta(days=1)) == []
        assert uow.receipts.by_reference("a", PaymentMethod.CHECK, "CHK-1") == receipt
        assert uow.receipts.by_reference("a", PaymentMethod.ACH, "CHK-1") is None
        assert [i.number for i in uow.invoices.issued_until("a", dt.date(2027, 1, 1))] == ["EP-1"]
        assert [i.number for i in uow.invoices.open_for_account("a")] == ["EP-2"]


def test_card_payments_by_key_and_unsettled(make_uow: Callable[[], Any]) -> None:
    payment = CardPayment(str(uuid.uuid4()), "a", "key-1", f"gw-{uuid.uuid4()}", "fp", "tok", Money(100, "USD"),
                          (("inv-1", 60), ("inv-2", 40)), "ana@example.test", "u-1", CardPaymentStatus.PENDING, AT)
    with make_uow() as uow:
        uow.card_payments.add(payment)
        uow.commit()
    with make_uow() as uow:
        assert uow.card_payments.by_key("a", "key-1") == payment
        assert uow.card_payments.by_key("b", "key-1") is None
        assert uow.card_payments.in_flight_for("a") == [payment]
        assert uow.card_payments.unsettled() == [payment]
        uow.card_payments.update(payment.settled(CardPaymentStatus.SUCCEEDED, AT, charge_id="ch_1"))
        uow.commit()
    with make_uow() as uow:
        assert uow.card_payments.get(payment.id).status is CardPaymentStatus.SUCCEEDED
        assert uow.card_payments.unsettled() == []


def test_purchase_orders_count_what_was_invoiced_and_mark_each_notice_once(make_uow: Callable[[], Any]) -> None:
    po = PurchaseOrder(str(uuid.uuid4()), "a", "PO-1", Money(10_000, "USD"), dt.date(2027, 1, 1),
                       dt.date(2027, 12, 31), "notes")
    with make_uow() as uow:
        uow.purchase_orders.add(po)
        uow.invoices.add(_invoice("a", "EP-1", dt.date(2027, 1, 2), 3_000, po="PO-1"))
        uow.invoices.add(_invoice("a", "EP-2", dt.date(2027, 1, 2), 5_000, po="PO-1", status=InvoiceStatus.VOID))
        uow.commit()
    with make_uow() as uow:
        stored = uow.purchase_orders.by_number("a", "PO-1")
        assert stored.used == Money(3_000, "USD") == uow.invoices.invoiced_against("a", "PO-1", "USD")
        assert uow.purchase_orders.get("b", po.id) is None
        assert [p.number for p in uow.purchase_orders.notices_pending(PoNotice.EXPIRES_SOON, dt.date(2027, 6, 1))] \
            == ["PO-1"]
        assert uow.purchase_orders.mark_notice(po.id, PoNotice.EXPIRES_SOON, AT)
        assert not uow.purchase_orders.mark_notice(po.id, PoNotice.EXPIRES_SOON, AT)
        uow.commit()
    with make_uow() as uow:
        assert uow.purchase_orders.notices_pending(PoNotice.EXPIRES_SOON, dt.date(2027, 6, 1)) == []
        assert len(uow.purchase_orders.notices_pending(PoNotice.MOSTLY_USED, dt.date(2027, 6, 1))) == 1


def test_invoice_numbers_are_gapless_per_series(make_uow: Callable[[], Any]) -> None:
    with make_uow() as uow:
        assert [uow.invoices.next_number("EP-2027") for _ in range(2)] == ["EP-2027-000001", "EP-2027-000002"]
        uow.commit()
    with make_uow() as uow:
        uow.invoices.next_number("EP-2027")  # rolled back: not used
    with make_uow() as uow:
        assert uow.invoices.next_number("EP-2027") == "EP-2027-000003"


def test_a_statement_from_the_periods_records_equals_one_from_the_whole_history(
        make_uow: Callable[[], Any]) -> None:
    """account_statement reads only the period and what may still owe; the domain's statement
    over every record must agree, for periods before, across and after the history."""
    from billing_common.clock import FakeClock
    from services.enterprise_portal.domain.statement import statement
    from services.enterprise_portal.service_layer import invoicing
    from services.enterprise_portal.service_layer.dependencies import Dependencies

    day0 = dt.date(2026, 1, 1)
    invoices, receipts = [], []
    with make_uow() as uow:
        for n in range(12):
            issued = day0 + dt.timedelta(days=20 * n)
            invoice = _invoice("a", f"EP-{n:03d}", issued, 10_000 + n,
                               status=InvoiceStatus.VOID if n == 5 else InvoiceStatus.OPEN)
            uow.invoices.add(invoice)
            paid_at = dt.datetime.combine(issued + dt.timedelta(days=25), dt.time(9), tzinfo=dt.UTC)
            if n % 3 == 0:  # paid by a receipt
                receipt = Receipt(str(uuid.uuid4()), "a", invoice.total, PaymentMethod.ACH, paid_at, f"ACH-{n}")
                uow.receipts.add(receipt, "rep")
                uow.invoices.add_payments([Payment(str(uuid.uuid4()), invoice.id, invoice.total, paid_at,
                                                   receipt_id=receipt.id)])
                uow.invoices.set_status(invoice.id, InvoiceStatus.PAID)
                receipts.append(receipt)
            elif n % 3 == 1 and n != 5:  # half paid before receipts existed
                uow.invoices.add_payments([Payment(str(uuid.uuid4()), invoice.id, Money(5_000, "USD"), paid_at)])
            if n == 8:  # a card payment (no reference) overpays it: the rest becomes credit
                receipt = Receipt(str(uuid.uuid4()), "a", Money(25_000, "USD"), PaymentMethod.CARD, paid_at)
                uow.receipts.add(receipt, "contact")
                uow.invoices.add_payments([Payment(str(uuid.uuid4()), invoice.id, invoice.total, paid_at,
                                                   receipt_id=receipt.id)])
                uow.invoices.set_status(invoice.id, InvoiceStatus.PAID)
                credit = Credit(str(uuid.uuid4()), "a", Money(25_000 - invoice.total.amount_minor, "USD"), paid_at,
                                receipt_id=receipt.id)
                uow.credits.add(credit)
                receipts.append(receipt)
            if n == 10:  # part of that credit spent on it, a goodwill credit the day after
                spent = dt.datetime.combine(issued + dt.timedelta(days=2), dt.time(11), tzinfo=dt.UTC)
                uow.invoices.add_payments([Payment(str(uuid.uuid4()), invoice.id, Money(4_000, "USD"), spent,
                                                   credit_id=credit.id)])
                uow.credits.add(Credit(str(uuid.uuid4()), "a", Money(1_500, "USD"), spent + dt.timedelta(days=1)))
        uow.commit()
    with make_uow() as uow:
        invoices = uow.invoices.issued_until("a", dt.date(2030, 1, 1))
        credits = uow.credits.for_account("a")
    deps = Dependencies(uow=make_uow, clock=FakeClock())
    for start, end in [(dt.date(2025, 6, 1), dt.date(2025, 12, 31)), (dt.date(2026, 3, 1), dt.date(2026, 5, 15)),
                       (dt.date(2026, 6, 1), dt.date(2026, 9, 1)), (dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
                       (dt.date(2026, 2, 10), dt.date(2026, 9, 30)), (dt.date(2026, 10, 1), dt.date(2027, 2, 1))]:
        got = invoicing.account_statement(deps, "a", start, end)
        want = statement("a", "USD", start, end, invoices, receipts, credits)
        assert (got.opening_balance, got.closing_balance, got.aging) == (
            want.opening_balance, want.closing_balance, want.aging), (start, end)
        assert [(e.on, e.kind, e.reference, e.balance) for e in got.entries] == [
            (e.on, e.kind, e.reference, e.balance) for e in want.entries], (start, end)
        # A page's entries, balances and aging come from the database (adapters.statement_sql):
        # every page, walked from the newest to the oldest and back, agrees with the domain's.
        for size in (1, 3, 50):
            shown, page = invoicing.statement_page(deps, "a", start, end, size)
            assert (shown.opening_balance, shown.closing_balance, shown.aging, shown.unapplied_credit) == (
                want.opening_balance, want.closing_balance, want.aging, want.unapplied_credit), (start, end)
            walked = list(page.entries)
            while page.older:
                page = invoicing.statement_page(deps, "a", start, end, size, before=page.older)[1]
                walked[:0] = page.entries
            assert walked == list(want.entries), (start, end, size)
            assert page.total == len(want.entries)
            back = list(page.entries)
            while page.newer:
                page = invoicing.statement_page(deps, "a", start, end, size, after=page.newer)[1]
                back += page.entries
            assert back == list(want.entries), (start, end, size)


def test_quote_pages_filter_by_status_in_the_store_and_walk_by_keyset(make_uow: Callable[[], Any]) -> None:
    """Each quote's newest version the viewer may see decides its status today (an open one
    past its validity date is expired; a customer never sees a draft): the page's filter and
    keyset answer what filtering the whole list does, on both stores."""
    today = AT.date()
    line = (Line(LineKind.CUSTOM, "Workshop", 1, Money(300_000, "USD")),)
    kinds: list[tuple[tuple[QuoteStatus, ...], int]] = [
        ((QuoteStatus.OPEN,), 5), ((QuoteStatus.OPEN,), -1), ((QuoteStatus.ACCEPTED,), 5),
        ((QuoteStatus.DECLINED,), 5), ((QuoteStatus.SUPERSEDED, QuoteStatus.OPEN), 5),
        ((QuoteStatus.OPEN, QuoteStatus.DRAFT), -3), ((QuoteStatus.DRAFT,), 5)]
    account = f"acct-{uuid.uuid4().hex[:8]}"
    made: list[Quote] = []
    with make_uow() as uow:
        for n in range(21):
            statuses, valid = kinds[n % len(kinds)]
            number = f"QT-{uuid.uuid4().int % 10 ** 6:06d}"
            versions = tuple(QuoteVersion(number, v, "USD", line, today + dt.timedelta(days=valid), status=s,
                                          sent_on=None if s is QuoteStatus.DRAFT else today)
                             for v, s in enumerate(statuses, start=1))
            quote = Quote(number, account, "USD", versions, rep_user_id="rep", rep_email="rep@vendor.example")
            uow.quotes.add(quote, AT)
            made.append(quote)
        uow.commit()
    made.sort(key=lambda q: q.number, reverse=True)
    for customer in (True, False):
        for status in (None, *QuoteStatus):
            expected = []
            for quote in made:
                versions = quote.visible_versions() if customer else quote.versions
                if versions and (status is None or versions[-1].status_on(today) is status):
                    expected.append(quote.number)
            walked, after, more = [], "", True
            with make_uow() as uow:
                while more:
                    page, more = uow.quotes.page_for_account(account, customer=customer, status=status, today=today,
                                                             limit=2, after=after)
                    assert len(page) <= 2 and (page or not more)
                    walked += [q.number for q in page]
                    after = page[-1].number if page else ""
            assert walked == expected, (customer, status)
