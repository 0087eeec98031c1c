"""What the use cases need from the outside world; adapters implement these, fakes too."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol, Self

from billing_common.outbox import OutgoingMail
from services.enterprise_portal.domain.model import Invoice
from services.enterprise_portal.domain.quotes import Quote, QuoteComment, QuoteVersion


class InvoiceRepository(Protocol):
    def add(self, invoice: Invoice) -> None: ...
    def open_for_account(self, account_id: str) -> list[Invoice]: ...
    def latest_currency(self, account_id: str) -> str | None: ...


class QuoteRepository(Protocol):
    def next_number(self) -> str: ...
    def add(self, quote: Quote, at: dt.datetime) -> None: ...
    def save(self, quote: Quote) -> None: ...
    def get(self, account_id: str, number: str, *, for_update: bool = False) -> Quote | None: ...
    def for_account(self, account_id: str) -> list[Quote]: ...
    def add_comment(self, comment: QuoteComment) -> None: ...
    def comments(self, number: str) -> list[QuoteComment]: ...


class Outbox(Protocol):
    def add(self, mail: OutgoingMail, at: dt.datetime) -> None:
        """Writes the mail in this unit of work's transaction (sent once it commits)."""

    def add_many(self, mails: Sequence[OutgoingMail], at: dt.datetime) -> None: ...


class UnitOfWork(Protocol):
    """One transaction: leaving the `with` block without `commit()` writes nothing."""

    invoices: InvoiceRepository
    quotes: QuoteRepository
    outbox: Outbox

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class InvoiceIssuer(Protocol):
    """Where a quote's acceptance meets purchase orders and invoices (issued by the invoices
    use cases, not copied here). Both run in the acceptance's unit of work, so the quote's
    acceptance and its invoices commit or roll back together."""

    def valid_po_numbers(self, uow: UnitOfWork, account_id: str, day: dt.date) -> list[str]:
        """The numbers of the account's POs a contact may choose on `day` (active ones)."""

    def issue_for_quote(self, uow: UnitOfWork, quote: Quote, version: QuoteVersion, issued_on: dt.date
                        ) -> list[str]:
        """Issues the invoice(s) of the accepted `version` on its terms with its PO; their numbers."""
