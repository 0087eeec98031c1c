"""What the use cases need from the outside world; adapters implement these, fakes too."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol, Self

from billing_common.money import Money
from billing_common.outbox import OutgoingMail
from services.enterprise_portal.domain.model import Invoice, InvoiceStatus, Payment
from services.enterprise_portal.domain.payments import Credit, PaymentMethod, Receipt
from services.enterprise_portal.domain.purchase_orders import PoNotice, PurchaseOrder
from services.enterprise_portal.domain.quotes import Quote, QuoteComment, QuoteVersion


class CardPaymentStatus(StrEnum):
    PENDING = "pending"  # stored, the gateway not answered yet (or the process died: reconciler)
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    UNKNOWN = "unknown"  # the answer was lost: settled only by the reconciler (S20)
    FAILED = "failed"  # the gateway never received it (the reconciler asked): nothing charged


@dataclass(frozen=True, slots=True)
class CardPayment:
    """A card payment of one or several invoices, stored with the caller's idempotency key
    before the gateway is called (S19) and settled after."""

    id: str
    account_id: str
    idempotency_key: str
    gateway_key: str
    fingerprint: str  # the request it was made for: the same key with another request is refused
    token: str
    amount: Money
    allocation: tuple[tuple[str, int], ...]  # (invoice id, minor units) as confirmed
    payer_email: str
    payer_user_id: str
    status: CardPaymentStatus
    created_at: dt.datetime
    settled_at: dt.datetime | None = None
    charge_id: str | None = None
    decline_code: str | None = None
    receipt_id: str | None = None

    @property
    def in_flight(self) -> bool:
        return self.status in (CardPaymentStatus.PENDING, CardPaymentStatus.UNKNOWN)

    def settled(self, status: CardPaymentStatus, at: dt.datetime, **changes: object) -> CardPayment:
        return replace(self, status=status, settled_at=at, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class InvoicePage:
    invoices: list[Invoice]
    flags: dict[str, str] = field(default_factory=dict)  # invoice id -> PoProblem value
    has_more: bool = False


class InvoiceRepository(Protocol):
    def add(self, invoice: Invoice, po_problem: str | None = None) -> None: ...
    def add_payments(self, payments: Sequence[Payment]) -> None: ...
    def set_status(self, invoice_id: str, status: InvoiceStatus) -> None: ...
    def get(self, account_id: str, invoice_id: str, *, for_update: bool = False) -> Invoice | None: ...
    def get_many(self, account_id: str, invoice_ids: Sequence[str], *, for_update: bool = False
                 ) -> list[Invoice]: ...
    def page(self, account_id: str, limit: int, after: tuple[dt.date, str] | None = None) -> InvoicePage: ...
    def count(self, account_id: str) -> int: ...
    def po_problem(self, invoice_id: str) -> str | None: ...
    def issued_until(self, account_id: str, end: dt.date) -> list[Invoice]: ...
    def for_statement(self, account_id: str, start: dt.date, end: dt.date) -> list[Invoice]: ...
    def balance_before(self, account_id: str, start: dt.date) -> int: ...
    def invoiced_against(self, account_id: str, po_number: str, currency: str) -> Money: ...
    def open_for_account(self, account_id: str) -> list[Invoice]: ...
    def latest_currency(self, account_id: str) -> str | None: ...
    def next_number(self, series: str) -> str: ...


class ReceiptRepository(Protocol):
    def add(self, receipt: Receipt, recorded_by: str) -> None: ...
    def get(self, account_id: str, receipt_id: str) -> Receipt | None: ...
    def by_reference(self, account_id: str, method: PaymentMethod, reference: str) -> Receipt | None: ...
    def received_until(self, account_id: str, end: dt.date, start: dt.date | None = None) -> list[Receipt]: ...


class CreditRepository(Protocol):
    def add(self, credit: Credit) -> None: ...
    def for_account(self, account_id: str, *, for_update: bool = False) -> list[Credit]: ...


class CardPaymentRepository(Protocol):
    def add(self, payment: CardPayment) -> None: ...
    def update(self, payment: CardPayment) -> None: ...
    def get(self, payment_id: str, *, for_update: bool = False) -> CardPayment | None: ...
    def by_key(self, account_id: str, idempotency_key: str) -> CardPayment | None: ...
    def in_flight_for(self, account_id: str) -> list[CardPayment]: ...
    def unsettled(self) -> list[CardPayment]: ...


class PurchaseOrderRepository(Protocol):
    def add(self, po: PurchaseOrder) -> None: ...
    def update(self, po: PurchaseOrder) -> None: ...
    def get(self, account_id: str, po_id: str, *, for_update: bool = False) -> PurchaseOrder | None: ...
    def by_number(self, account_id: str, number: str) -> PurchaseOrder | None: ...
    def for_account(self, account_id: str) -> list[PurchaseOrder]: ...
    def notices_pending(self, notice: PoNotice, valid_on_or_after: dt.date) -> list[PurchaseOrder]: ...
    def mark_notice(self, po_id: str, notice: PoNotice, at: dt.datetime) -> bool: ...


class Outbox(Protocol):
    def add(self, mail: OutgoingMail, at: dt.datetime) -> None:
        """Writes the mail in this unit of work's transaction (sent once it commits)."""
        ...


class QuoteRepository(Protocol):
    def next_number(self) -> str: ...
    def add(self, quote: Quote, at: dt.datetime) -> None: ...
    def save(self, quote: Quote) -> None: ...
    def get(self, account_id: str, number: str, *, for_update: bool = False) -> Quote | None: ...
    def for_account(self, account_id: str) -> list[Quote]: ...
    def add_comment(self, comment: QuoteComment) -> None: ...
    def comments(self, number: str) -> list[QuoteComment]: ...


class UnitOfWork(Protocol):
    """One transaction: leaving the `with` block without `commit()` writes nothing."""

    invoices: InvoiceRepository
    receipts: ReceiptRepository
    credits: CreditRepository
    card_payments: CardPaymentRepository
    purchase_orders: PurchaseOrderRepository
    quotes: QuoteRepository
    outbox: Outbox

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class InvoiceIssuer(Protocol):
    """Where a quote's acceptance meets purchase orders and invoices (issued by the invoicing
    use cases, not copied here). Both run in the acceptance's unit of work, so the quote's
    acceptance and its invoices commit or roll back together."""

    def valid_po_numbers(self, uow: UnitOfWork, account_id: str, day: dt.date) -> list[str]:
        """The numbers of the account's POs a contact may choose on `day` (active ones)."""
        ...

    def issue_for_quote(self, uow: UnitOfWork, quote: Quote, version: QuoteVersion, *, issued_on: dt.date,
                        at: dt.datetime) -> list[str]:
        """Issues the invoice(s) of the accepted `version` on its terms with its PO; their
        numbers. A flag about the PO is mailed to the contacts and the rep."""
        ...
