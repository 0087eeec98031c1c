"""What the use cases need from the outside world; adapters implement these, fakes too."""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol, Self

from billing_common.invoicing.profile import BillingProfile
from billing_common.outbox import OutgoingMail
from services.online_billing.domain.billing import Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
from services.online_billing.domain.catalogue import Catalogue
from services.online_billing.domain.model import Plan, PlanPrice, Subscription
from services.online_billing.domain.requests import ChangeRequest, RequestStatus


class PlanRepository(Protocol):
    def add(self, plan: Plan) -> None: ...
    def add_price(self, price: PlanPrice) -> None: ...
    def catalogue(self) -> Catalogue: ...


class SubscriptionRepository(Protocol):
    def add(self, subscription: Subscription) -> None: ...
    def for_account(self, account_id: str) -> list[Subscription]: ...

    def get(self, account_id: str, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
        """The account's subscription of that id (None for another account's: S13). With
        `for_update`, the row stays locked until the unit of work ends; call it first."""
        ...

    def update(self, subscription: Subscription) -> None: ...

    def claim_due(self, as_of: dt.datetime, limit: int, exclude: Collection[str] = ()
                  ) -> list[Subscription]:
        """Up to `limit` subscriptions due for the billing run as of `as_of`
        (domain.renewals.is_due), oldest period end first, locked until the unit of work ends;
        rows locked by another worker are skipped, not waited for. `exclude` leaves out ids the
        caller already gave up on in this run."""
        ...

    def count_due(self, as_of: dt.datetime) -> int: ...

    def get_many(self, subscription_ids: Collection[str], *, for_update: bool = False) -> list[Subscription]:
        """Subscriptions by id (any account: the billing run's), locked with `for_update`."""
        ...

    def update_many(self, subscriptions: Sequence[Subscription]) -> None: ...


class PaymentMethodRepository(Protocol):
    def add(self, method: PaymentMethod) -> None: ...
    def for_account(self, account_id: str) -> list[PaymentMethod]: ...
    def set_default(self, account_id: str, method_id: str) -> None: ...
    def remove(self, account_id: str, method_id: str) -> None: ...

    def defaults(self, account_ids: Collection[str]) -> dict[str, PaymentMethod]:
        """The default card of each of these accounts that has one."""
        ...


class PaymentRepository(Protocol):
    def add(self, payment: Payment) -> None: ...
    def by_key(self, account_id: str, idempotency_key: str) -> Payment | None: ...
    def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None: ...
    def update(self, payment: Payment) -> None: ...
    def in_flight(self, subscription_id: str) -> list[Payment]: ...
    def in_flight_for_account(self, account_id: str) -> list[Payment]:
        """The account's payments still PENDING or UNKNOWN (being confirmed, S20)."""
        ...
    def add_many(self, payments: Sequence[Payment]) -> None: ...
    def update_many(self, payments: Sequence[Payment]) -> None: ...
    def get_many(self, payment_ids: Collection[str], *, for_update: bool = False) -> list[Payment]: ...
    def statuses(self, payment_ids: Collection[str], *, for_update: bool = False) -> dict[str, PaymentStatus]:
        """The status of each of these payments (the rows locked with for_update)."""
        ...

    def by_keys(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], Payment]:
        """Payments by (account id, idempotency key)."""
        ...

    def in_flight_subscriptions(self, subscription_ids: Collection[str]) -> set[str]:
        """Which of these subscriptions have a payment PENDING or UNKNOWN."""
        ...

    def unsettled(self, created_before: dt.datetime) -> list[Payment]:
        """Payments still PENDING or UNKNOWN that were made before that instant, oldest first."""
        ...


class InvoiceRepository(Protocol):
    def next_number(self, series: str) -> str:
        """The series' next gapless number, taken in this unit of work's transaction."""
        ...

    def add(self, invoice: Invoice) -> None: ...
    def set_status(self, invoice_id: str, status: InvoiceStatus, paid_at: dt.datetime | None = None) -> None: ...
    def add_many(self, invoices: Sequence[Invoice]) -> None: ...

    def next_numbers(self, series: str, count: int) -> list[str]:
        """`count` consecutive gapless numbers of the series, taken in this unit of work's transaction."""
        ...

    def get_many(self, invoice_ids: Collection[str]) -> dict[str, Invoice]: ...
    def set_status_many(self, changes: Sequence[tuple[str, InvoiceStatus, dt.datetime | None]]) -> None: ...
    def get(self, account_id: str, invoice_id: str) -> Invoice | None: ...

    def page(self, account_id: str, limit: int, after: tuple[dt.datetime, str] | None) -> list[Invoice]:
        """Newest first: (issued_at, id) descending, starting after the cursor `after`."""
        ...


class BillingProfileRepository(Protocol):
    def get(self, account_id: str) -> BillingProfile | None: ...
    def put(self, account_id: str, profile: BillingProfile, at: dt.datetime) -> None: ...
    def get_many(self, account_ids: Collection[str]) -> dict[str, BillingProfile]: ...


class ChangeRequestRepository(Protocol):
    def add(self, request: ChangeRequest) -> None: ...

    def get(self, account_id: str, request_id: str, *, for_update: bool = False) -> ChangeRequest | None:
        """The account's request of that id (None for another account's: S13); with
        `for_update`, locked until the unit of work ends."""
        ...

    def update(self, request: ChangeRequest) -> None: ...

    def for_account(self, account_id: str, *, requested_by: str | None = None,
                    statuses: Collection[RequestStatus] = (), limit: int = 50) -> list[ChangeRequest]:
        """Newest first; only one member's with `requested_by`, only those statuses if given."""
        ...


class Outbox(Protocol):
    def add(self, mail: OutgoingMail, at: dt.datetime) -> None:
        """Writes the mail in this unit of work's transaction (sent once it commits)."""
        ...

    def add_many(self, mails: Sequence[OutgoingMail], at: dt.datetime) -> None: ...


@dataclass(frozen=True)
class BillingContact:
    """A person identity says is a billing contact of an account (identity has no "primary"
    contact: every billing contact is mailed)."""

    user_id: str
    name: str
    email: str
    locale: str  # "en" or "pt-BR": the language of their mails


@dataclass(frozen=True)
class AccountContacts:
    account_id: str
    locale: str  # the account's own language: for the invoice recipients who are no person of it
    contacts: tuple[BillingContact, ...] = ()


class ContactsUnavailable(Exception):
    """Identity did not answer (down, too slow, refused our credentials): the caller keeps the
    mail for later rather than lose it (README, "Billing mails")."""


class BillingContacts(Protocol):
    """Whom an account's billing mail goes to: identity owns people and memberships."""

    def for_account(self, account_id: str) -> AccountContacts | None:
        """The account's billing contacts; None for an account identity does not know.
        Raises ContactsUnavailable."""
        ...

    def for_accounts(self, account_ids: Collection[str]) -> dict[str, AccountContacts]:
        """`for_account` of many accounts in one call per 1000 (the billing run's batch):
        unknown accounts are left out. Raises ContactsUnavailable."""
        ...


class UnitOfWork(Protocol):
    """One transaction: leaving the `with` block without `commit()` writes nothing."""

    plans: PlanRepository
    subscriptions: SubscriptionRepository
    payment_methods: PaymentMethodRepository
    payments: PaymentRepository
    invoices: InvoiceRepository
    billing_profiles: BillingProfileRepository
    change_requests: ChangeRequestRepository
    outbox: Outbox

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
