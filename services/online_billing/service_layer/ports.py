"""What the use cases need from the outside world; adapters implement these, fakes too."""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Protocol, Self

from billing_common.invoicing.profile import BillingProfile
from billing_common.outbox import OutgoingMail
from services.online_billing.domain.billing import Invoice, InvoiceStatus, Payment, PaymentMethod
from services.online_billing.domain.catalogue import Catalogue
from services.online_billing.domain.model import Plan, PlanPrice, Subscription


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


class PaymentMethodRepository(Protocol):
    def add(self, method: PaymentMethod) -> None: ...
    def for_account(self, account_id: str) -> list[PaymentMethod]: ...
    def set_default(self, account_id: str, method_id: str) -> None: ...
    def remove(self, account_id: str, method_id: str) -> None: ...


class PaymentRepository(Protocol):
    def add(self, payment: Payment) -> None: ...
    def by_key(self, account_id: str, idempotency_key: str) -> Payment | None: ...
    def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None: ...
    def update(self, payment: Payment) -> None: ...
    def in_flight(self, subscription_id: str) -> list[Payment]: ...

    def unsettled(self, created_before: dt.datetime) -> list[Payment]:
        """Payments still PENDING or UNKNOWN that were made before that instant, oldest first."""
        ...


class InvoiceRepository(Protocol):
    def next_number(self, series: str) -> str:
        """The series' next gapless number, taken in this unit of work's transaction."""
        ...

    def add(self, invoice: Invoice) -> None: ...
    def set_status(self, invoice_id: str, status: InvoiceStatus, paid_at: dt.datetime | None = None) -> None: ...
    def get(self, account_id: str, invoice_id: str) -> Invoice | None: ...

    def page(self, account_id: str, limit: int, after: tuple[dt.datetime, str] | None) -> list[Invoice]:
        """Newest first: (issued_at, id) descending, starting after the cursor `after`."""
        ...


class BillingProfileRepository(Protocol):
    def get(self, account_id: str) -> BillingProfile | None: ...
    def put(self, account_id: str, profile: BillingProfile, at: dt.datetime) -> None: ...


class Outbox(Protocol):
    def add(self, mail: OutgoingMail, at: dt.datetime) -> None:
        """Writes the mail in this unit of work's transaction (sent once it commits)."""
        ...


class UnitOfWork(Protocol):
    """One transaction: leaving the `with` block without `commit()` writes nothing."""

    plans: PlanRepository
    subscriptions: SubscriptionRepository
    payment_methods: PaymentMethodRepository
    payments: PaymentRepository
    invoices: InvoiceRepository
    billing_profiles: BillingProfileRepository
    outbox: Outbox

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
