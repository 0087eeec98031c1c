"""In-memory twins of the SQL repositories and unit of work, for unit tests.

The unit of work works on a copy of the data and publishes it on commit, so leaving the block
without commit writes nothing, as a rolled-back transaction; one lock makes units of work take
turns, as the database's row locks make the use cases' transactions do.
tests/integration/enterprise_portal/test_repository_contract.py runs the same checks on both.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from billing_common.invoicing import numbering
from billing_common.memory import CopyOnWriteUnitOfWork, InMemoryOutbox
from billing_common.money import Money
from billing_common.outbox import OutgoingMail
from services.enterprise_portal.domain.model import Invoice, InvoiceStatus, Payment
from services.enterprise_portal.domain.payments import Credit, PaymentMethod, Receipt
from services.enterprise_portal.domain.purchase_orders import PoNotice, PurchaseOrder, invoiced_against
from services.enterprise_portal.domain.quotes import Quote, QuoteComment, QuoteStatus, quote_number
from services.enterprise_portal.domain.statement import EntryPage, aging, page_of_entries, statement
from services.enterprise_portal.service_layer.ports import CardPayment, InvoicePage


@dataclass
class Data:
    invoices: dict[str, Invoice] = field(default_factory=dict)
    flags: dict[str, str] = field(default_factory=dict)
    receipts: dict[str, Receipt] = field(default_factory=dict)
    credits: dict[str, Credit] = field(default_factory=dict)
    card_payments: dict[str, CardPayment] = field(default_factory=dict)
    purchase_orders: dict[str, PurchaseOrder] = field(default_factory=dict)
    notices: set[tuple[str, PoNotice]] = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)
    quotes: dict[str, Quote] = field(default_factory=dict)
    comments: list[QuoteComment] = field(default_factory=list)
    mails: list[OutgoingMail] = field(default_factory=list)


def _newest_first(i: Invoice) -> tuple[dt.date, str]:
    return (i.issued_on, i.number)


class InMemoryInvoiceRepository:
    def __init__(self, data: Data) -> None:
        self.data = data

    @property
    def invoices(self) -> list[Invoice]:
        return list(self.data.invoices.values())

    def add(self, invoice: Invoice, po_problem: str | None = None) -> None:
        if any(i.number == invoice.number for i in self.data.invoices.values()):
            raise ValueError(f"invoice {invoice.number} exists")
        self.data.invoices[invoice.id] = replace(invoice, payments=())
        self.add_payments(invoice.payments)
        if po_problem:
            self.data.flags[invoice.id] = po_problem

    def add_payments(self, payments: Sequence[Payment]) -> None:
        for p in payments:
            invoice = self.data.invoices[p.invoice_id]
            self.data.invoices[p.invoice_id] = replace(invoice, payments=(*invoice.payments, p))
            if p.credit_id is not None:
                credit = self.data.credits[p.credit_id]
                self.data.credits[p.credit_id] = replace(credit, applications=(*credit.applications, p))

    def set_status(self, invoice_id: str, status: InvoiceStatus) -> None:
        self.data.invoices[invoice_id] = replace(self.data.invoices[invoice_id], status=status)

    def get(self, account_id: str, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
        found = self.data.invoices.get(invoice_id)
        return found if found is not None and found.account_id == account_id else None

    def get_many(self, account_id: str, invoice_ids: Sequence[str], *, for_update: bool = False) -> list[Invoice]:
        return [i for i in (self.get(account_id, x) for x in dict.fromkeys(invoice_ids)) if i is not None]

    def page(self, account_id: str, limit: int, after: tuple[dt.date, str] | None = None) -> InvoicePage:
        mine = sorted((i for i in self.data.invoices.values() if i.account_id == account_id),
                      key=_newest_first, reverse=True)
        if after is not None:
            mine = [i for i in mine if _newest_first(i) < after]
        page = mine[:limit]
        return InvoicePage(invoices=page, flags={i.id: self.data.flags[i.id] for i in page if i.id in self.data.flags},
                           has_more=len(mine) > limit)

    def count(self, account_id: str) -> int:
        return sum(1 for i in self.data.invoices.values() if i.account_id == account_id)

    def po_problem(self, invoice_id: str) -> str | None:
        return self.data.flags.get(invoice_id)

    def issued_until(self, account_id: str, end: dt.date) -> list[Invoice]:
        return sorted((i for i in self.data.invoices.values() if i.account_id == account_id and i.issued_on <= end),
                      key=_newest_first)

    def for_statement(self, account_id: str, start: dt.date, end: dt.date) -> list[Invoice]:
        return self.issued_until(account_id, end)  # every one: the fake has no scale to save

    def balance_before(self, account_id: str, start: dt.date) -> int:
        day = start - dt.timedelta(days=1)
        invoices = self.issued_until(account_id, day)
        receipts = [r for r in self.data.receipts.values() if r.account_id == account_id and r.received_on <= day]
        credits = [c for c in self.data.credits.values() if c.account_id == account_id and c.created_on <= day]
        currency = invoices[0].currency if invoices else "USD"
        return statement(account_id, currency, day, day, invoices, receipts, credits).closing_balance.amount_minor

    def statement_page(self, account_id: str, start: dt.date, end: dt.date, opening: int, currency: str,
                       size: int, *, before: str = "", after: str = "") -> tuple[EntryPage, int]:
        """domain.statement's rules over the whole history (the fake has no scale to save)."""
        invoices = self.issued_until(account_id, end)
        receipts = [r for r in self.data.receipts.values() if r.account_id == account_id and r.received_on <= end]
        credits = [c for c in self.data.credits.values() if c.account_id == account_id and c.created_on <= end]
        found = statement(account_id, currency, start, end, invoices, receipts, credits)
        moved = (found.closing_balance - found.opening_balance).amount_minor
        return page_of_entries(found.entries, size, before=before, after=after), moved

    def aging_buckets(self, account_id: str, end: dt.date) -> tuple[int, int, int, int, int]:
        invoices = self.issued_until(account_id, end)
        found = aging(invoices, end, invoices[0].currency if invoices else "USD")
        return (found.current.amount_minor, found.days_1_30.amount_minor, found.days_31_60.amount_minor,
                found.days_61_90.amount_minor, found.over_90.amount_minor)

    def invoiced_against(self, account_id: str, po_number: str, currency: str) -> Money:
        return sum((i.total for i in self.data.invoices.values()
                    if i.account_id == account_id and i.po_number == po_number and not i.is_void),
                   Money.zero(currency))

    def open_for_account(self, account_id: str) -> list[Invoice]:
        return sorted(
            (i for i in self.data.invoices.values() if i.account_id == account_id and i.is_open),
            key=lambda i: (i.due_on, i.number),
        )

    def latest_currency(self, account_id: str) -> str | None:
        mine = [i for i in self.data.invoices.values() if i.account_id == account_id]
        return max(mine, key=_newest_first).currency if mine else None

    def next_number(self, series: str) -> str:
        numbering.require_series(series)
        self.data.counters[series] = self.data.counters.get(series, 0) + 1
        return numbering.format_number(series, self.data.counters[series])


class InMemoryReceiptRepository:
    def __init__(self, data: Data) -> None:
        self.data = data

    def add(self, receipt: Receipt, recorded_by: str) -> None:
        self.data.receipts[receipt.id] = receipt

    def get(self, account_id: str, receipt_id: str) -> Receipt | None:
        found = self.data.receipts.get(receipt_id)
        return found if found is not None and found.account_id == account_id else None

    def by_reference(self, account_id: str, method: PaymentMethod, reference: str) -> Receipt | None:
        return next((r for r in self.data.receipts.values()
                     if r.account_id == account_id and r.method is method and r.reference == reference), None)

    def received_until(self, account_id: str, end: dt.date, start: dt.date | None = None) -> list[Receipt]:
        return sorted((r for r in self.data.receipts.values() if r.account_id == account_id and r.received_on <= end
                       and (start is None or r.received_on >= start)), key=lambda r: (r.received_at, r.id))


class InMemoryCreditRepository:
    def __init__(self, data: Data) -> None:
        self.data = data

    def add(self, credit: Credit) -> None:
        self.data.credits[credit.id] = credit

    def for_account(self, account_id: str, *, for_update: bool = False) -> list[Credit]:
        return sorted((c for c in self.data.credits.values() if c.account_id == account_id),
                      key=lambda c: (c.created_at, c.id))


class InMemoryCardPaymentRepository:
    def __init__(self, data: Data) -> None:
        self.data = data

    def add(self, payment: CardPayment) -> None:
        if self.by_key(payment.account_id, payment.idempotency_key) is not None:
            raise ValueError("a card payment with this key exists")
        self.data.card_payments[payment.id] = payment

    def update(self, payment: CardPayment) -> None:
        self.data.card_payments[payment.id] = payment

    def get(self, payment_id: str, *, for_update: bool = False) -> CardPayment | None:
        return self.data.card_payments.get(payment_id)

    def by_key(self, account_id: str, idempotency_key: str) -> CardPayment | None:
        return next((p for p in self.data.card_payments.values()
                     if p.account_id == account_id and p.idempotency_key == idempotency_key), None)

    def in_flight_for(self, account_id: str) -> list[CardPayment]:
        return [p for p in self.data.card_payments.values() if p.account_id == account_id and p.in_flight]

    def unsettled(self) -> list[CardPayment]:
        return sorted((p for p in self.data.card_payments.values() if p.in_flight), key=lambda p: p.created_at)


class InMemoryPurchaseOrderRepository:
    def __init__(self, data: Data) -> None:
        self.data = data

    def _counted(self, po: PurchaseOrder) -> PurchaseOrder:
        return replace(po, invoiced=invoiced_against(po, self.data.invoices.values()))

    def add(self, po: PurchaseOrder) -> None:
        if self.by_number(po.account_id, po.number) is not None:
            raise ValueError(f"PO {po.number} exists")
        self.data.purchase_orders[po.id] = replace(po, invoiced=None)

    def update(self, po: PurchaseOrder) -> None:
        self.data.purchase_orders[po.id] = replace(po, invoiced=None)

    def get(self, account_id: str, po_id: str, *, for_update: bool = False) -> PurchaseOrder | None:
        found = self.data.purchase_orders.get(po_id)
        return self._counted(found) if found is not None and found.account_id == account_id else None

    def by_number(self, account_id: str, number: str) -> PurchaseOrder | None:
        return next((self._counted(p) for p in self.data.purchase_orders.values()
                     if p.account_id == account_id and p.number == number), None)

    def for_account(self, account_id: str) -> list[PurchaseOrder]:
        mine = [self._counted(p) for p in self.data.purchase_orders.values() if p.account_id == account_id]
        return sorted(sorted(mine, key=lambda p: p.number), key=lambda p: p.valid_to, reverse=True)

    def notices_pending(self, notice: PoNotice, valid_on_or_after: dt.date) -> list[PurchaseOrder]:
        return [self._counted(p) for p in sorted(self.data.purchase_orders.values(), key=lambda p: p.id)
                if (p.id, notice) not in self.data.notices and p.valid_to >= valid_on_or_after]

    def mark_notice(self, po_id: str, notice: PoNotice, at: dt.datetime) -> bool:
        if (po_id, notice) in self.data.notices:
            return False
        self.data.notices.add((po_id, notice))
        return True


class InMemoryQuoteRepository:
    def __init__(self, data: Data) -> None:
        self.data = data

    def next_number(self) -> str:
        self.data.counters["QT"] = self.data.counters.get("QT", 0) + 1
        return quote_number(self.data.counters["QT"])

    def add(self, quote: Quote, at: dt.datetime) -> None:
        if quote.number in self.data.quotes:
            raise ValueError(f"quote {quote.number} exists")
        self.data.quotes[quote.number] = quote

    def save(self, quote: Quote) -> None:
        if quote.number not in self.data.quotes:
            raise ValueError(f"quote {quote.number} was never added")
        self.data.quotes[quote.number] = quote

    def get(self, account_id: str, number: str, *, for_update: bool = False) -> Quote | None:
        quote = self.data.quotes.get(number)
        return quote if quote is not None and quote.account_id == account_id else None

    def for_account(self, account_id: str) -> list[Quote]:
        return sorted((q for q in self.data.quotes.values() if q.account_id == account_id),
                      key=lambda q: q.number, reverse=True)

    def page_for_account(self, account_id: str, *, customer: bool, status: QuoteStatus | None, today: dt.date,
                         limit: int, after: str = "") -> tuple[list[Quote], bool]:
        found = []
        for quote in self.for_account(account_id):
            versions = quote.visible_versions() if customer else quote.versions
            if (versions and (not after or quote.number < after)
                    and (status is None or versions[-1].status_on(today) is status)):
                found.append(quote)
        return found[:limit], len(found) > limit

    def add_comment(self, comment: QuoteComment) -> None:
        self.data.comments.append(comment)

    def comments(self, number: str) -> list[QuoteComment]:
        return sorted((c for c in self.data.comments if c.quote_number == number), key=lambda c: c.written_at)


class InMemoryUnitOfWork(CopyOnWriteUnitOfWork[Data]):
    def __init__(self, invoices: list[Invoice] | None = None) -> None:
        super().__init__(Data(invoices={i.id: i for i in invoices or ()}))

    def _bind(self, data: Data) -> None:
        self.invoices = InMemoryInvoiceRepository(data)
        self.receipts = InMemoryReceiptRepository(data)
        self.credits = InMemoryCreditRepository(data)
        self.card_payments = InMemoryCardPaymentRepository(data)
        self.purchase_orders = InMemoryPurchaseOrderRepository(data)
        self.quotes = InMemoryQuoteRepository(data)
        self.outbox = InMemoryOutbox(data)
