"""In-memory twins of the SQL repositories and unit of work, for unit tests."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from billing_common.memory import BaseInMemoryUnitOfWork
from billing_common.outbox import OutgoingMail
from services.enterprise_portal.domain.model import Invoice
from services.enterprise_portal.domain.quotes import Quote, QuoteComment, quote_number


class InMemoryInvoiceRepository:
    def __init__(self, invoices: list[Invoice] | None = None) -> None:
        self.invoices: list[Invoice] = list(invoices or ())

    def add(self, invoice: Invoice) -> None:
        if any(i.number == invoice.number for i in self.invoices):
            raise ValueError(f"invoice {invoice.number} exists")
        self.invoices.append(invoice)

    def open_for_account(self, account_id: str) -> list[Invoice]:
        return sorted(
            (i for i in self.invoices if i.account_id == account_id and i.is_open),
            key=lambda i: (i.due_on, i.number),
        )

    def latest_currency(self, account_id: str) -> str | None:
        mine = [i for i in self.invoices if i.account_id == account_id]
        return max(mine, key=lambda i: (i.issued_on, i.number)).currency if mine else None


@dataclass
class QuoteData:
    """What the quote fakes hold; the unit of work works on a copy until it commits."""

    counter: int = 0
    quotes: dict[str, Quote] = field(default_factory=dict)
    comments: list[QuoteComment] = field(default_factory=list)
    mails: list[OutgoingMail] = field(default_factory=list)

    def copy(self) -> QuoteData:
        return QuoteData(self.counter, dict(self.quotes), list(self.comments), list(self.mails))


class InMemoryQuoteRepository:
    def __init__(self, data: QuoteData) -> None:
        self.data = data

    def next_number(self) -> str:
        self.data.counter += 1
        return quote_number(self.data.counter)

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

    def add_comment(self, comment: QuoteComment) -> None:
        self.data.comments.append(comment)

    def comments(self, number: str) -> list[QuoteComment]:
        return sorted((c for c in self.data.comments if c.quote_number == number), key=lambda c: c.written_at)


class InMemoryOutbox:
    def __init__(self, data: QuoteData) -> None:
        self.data = data

    def add(self, mail: OutgoingMail, at: dt.datetime) -> None:
        self.data.mails.append(mail)

    def add_many(self, mails: Sequence[OutgoingMail], at: dt.datetime) -> None:
        self.data.mails.extend(mails)


class InMemoryUnitOfWork(BaseInMemoryUnitOfWork):
    def __init__(self, invoices: list[Invoice] | None = None) -> None:
        super().__init__()
        self.invoices = InMemoryInvoiceRepository(invoices)
        self.data = QuoteData()
        self._bind(self.data)

    def _bind(self, data: QuoteData) -> None:
        self.quotes = InMemoryQuoteRepository(data)
        self.outbox = InMemoryOutbox(data)

    def _begin(self) -> None:
        self._work = self.data.copy()
        self._bind(self._work)

    def _publish(self) -> None:
        self.data = self._work
        self._work = self.data.copy()
        self._bind(self._work)

    def _end(self) -> None:
        self._bind(self.data)
