"""In-memory twins of the SQL repositories and unit of work, for unit tests.

The unit of work works on a copy of the data and publishes it on commit, so leaving the block
without commit writes nothing, as a rolled-back transaction; one lock makes units of work take
turns, as the database's row locks make the use cases' transactions do.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from billing_common.invoicing import numbering
from billing_common.invoicing.profile import BillingProfile
from billing_common.memory import CopyOnWriteUnitOfWork, InMemoryOutbox
from billing_common.outbox import OutgoingMail
from services.online_billing.domain.billing import Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
from services.online_billing.domain.catalogue import LAUNCH_PLANS, Catalogue, launch_prices
from services.online_billing.domain.model import BillingInterval, Plan, PlanPrice, Subscription
from services.online_billing.domain.renewals import is_due
from services.online_billing.domain.requests import ChangeRequest, RequestStatus


@dataclass
class Data:
    plans: dict[str, Plan] = field(default_factory=dict)
    prices: dict[tuple[str, str, BillingInterval], PlanPrice] = field(default_factory=dict)
    subscriptions: list[Subscription] = field(default_factory=list)
    payment_methods: dict[str, PaymentMethod] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    profiles: dict[str, BillingProfile] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    mails: list[OutgoingMail] = field(default_factory=list)
    requests: dict[str, ChangeRequest] = field(default_factory=dict)


class InMemoryPlanRepository:
    def __init__(self, data: Data) -> None:
        self.data = data

    @property
    def plans(self) -> dict[str, Plan]:
        return self.data.plans

    @property
    def prices(self) -> dict[tuple[str, str, BillingInterval], PlanPrice]:
        return self.data.prices

    def add(self, plan: Plan) -> None:
        if plan.code in self.data.plans:
            raise ValueError(f"plan {plan.code} exists")
        self.data.plans[plan.code] = plan

    def add_price(self, price: PlanPrice) -> None:
        if price.plan_code not in self.data.plans:
            raise ValueError(f"no plan {price.plan_code}")
        self.data.prices[(price.plan_code, price.unit_price.currency, price.interval)] = price

    def catalogue(self) -> Catalogue:
        return Catalogue.of(self.data.plans.values(), self.data.prices.values())


class InMemorySubscriptionRepository:
    def __init__(self, data: Data) -> None:
        self.data = data

    @property
    def subscriptions(self) -> list[Subscription]:
        return self.data.subscriptions

    def add(self, subscription: Subscription) -> None:
        self.data.subscriptions.append(subscription)

    def for_account(self, account_id: str) -> list[Subscription]:
        return [s for s in self.data.subscriptions if s.account_id == account_id]

    def get(self, account_id: str, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
        return next((s for s in self.data.subscriptions if s.id == subscription_id and s.account_id == account_id),
                    None)

    def update(self, subscription: Subscription) -> None:
        self.data.subscriptions = [subscription if s.id == subscription.id else s for s in self.data.subscriptions]

    def claim_due(self, as_of: dt.datetime, limit: int, exclude: Collection[str] = ()
                  ) -> list[Subscription]:
        due = sorted((s for s in self.data.subscriptions if is_due(s, as_of) and s.id not in exclude),
                     key=lambda s: (s.current_period_end, s.id))
        return due[:limit]

    def count_due(self, as_of: dt.datetime) -> int:
        return sum(1 for s in self.data.subscriptions if is_due(s, as_of))

    def get_many(self, subscription_ids: Collection[str], *, for_update: bool = False) -> list[Subscription]:
        return [s for s in self.data.subscriptions if s.id in set(subscription_ids)]

    def update_many(self, subscriptions: Sequence[Subscription]) -> None:
        for s in subscriptions:
            self.update(s)


class InMemoryPaymentMethodRepository:
    def __init__(self, data: Data) -> None:
        self.data = data

    def add(self, method: PaymentMethod) -> None:
        self.data.payment_methods[method.id] = method

    def for_account(self, account_id: str) -> list[PaymentMethod]:
        return sorted((m for m in self.data.payment_methods.values() if m.account_id == account_id),
                      key=lambda m: (m.created_at, m.id))

    def set_default(self, account_id: str, method_id: str) -> None:
        for m in self.for_account(account_id):
            self.data.payment_methods[m.id] = replace(m, is_default=m.id == method_id)

    def defaults(self, account_ids: Collection[str]) -> dict[str, PaymentMethod]:
        return {m.account_id: m for m in self.data.payment_methods.values()
                if m.is_default and m.account_id in account_ids}

    def remove(self, account_id: str, method_id: str) -> None:
        if method_id in {m.id for m in self.for_account(account_id)}:
            del self.data.payment_methods[method_id]


class InMemoryPaymentRepository:
    def __init__(self, data: Data) -> None:
        self.data = data

    def add(self, payment: Payment) -> None:
        if any(p.account_id == payment.account_id and p.idempotency_key == payment.idempotency_key
               for p in self.data.payments.values()):
            raise ValueError("duplicate idempotency key")
        self.data.payments[payment.id] = payment

    def by_key(self, account_id: str, idempotency_key: str) -> Payment | None:
        return next((p for p in self.data.payments.values()
                     if p.account_id == account_id and p.idempotency_key == idempotency_key), None)

    def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None:
        return self.data.payments.get(payment_id)

    def update(self, payment: Payment) -> None:
        self.data.payments[payment.id] = payment

    def in_flight(self, subscription_id: str) -> list[Payment]:
        return [p for p in self.data.payments.values() if p.preview.subscription_id == subscription_id and p.in_flight]

    def in_flight_for_account(self, account_id: str) -> list[Payment]:
        return [p for p in self.data.payments.values() if p.account_id == account_id and p.in_flight]

    def add_many(self, payments: Sequence[Payment]) -> None:
        for p in payments:
            self.add(p)

    def update_many(self, payments: Sequence[Payment]) -> None:
        for p in payments:
            self.update(p)

    def get_many(self, payment_ids: Collection[str], *, for_update: bool = False) -> list[Payment]:
        return [p for p in self.data.payments.values() if p.id in set(payment_ids)]

    def statuses(self, payment_ids: Collection[str], *, for_update: bool = False) -> dict[str, PaymentStatus]:
        return {p.id: p.status for p in self.get_many(payment_ids)}

    def by_keys(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], Payment]:
        return {(p.account_id, p.idempotency_key): p for p in self.data.payments.values()
                if (p.account_id, p.idempotency_key) in set(keys)}

    def in_flight_subscriptions(self, subscription_ids: Collection[str]) -> set[str]:
        return {p.preview.subscription_id for p in self.data.payments.values()
                if p.in_flight and p.preview.subscription_id in set(subscription_ids)}

    def unsettled(self, created_before: dt.datetime) -> list[Payment]:
        return sorted((p for p in self.data.payments.values() if p.in_flight and p.created_at <= created_before),
                      key=lambda p: (p.created_at, p.id))


class InMemoryInvoiceRepository:
    def __init__(self, data: Data) -> None:
        self.data = data

    def next_number(self, series: str) -> str:
        self.data.counters[series] = self.data.counters.get(series, 0) + 1
        return numbering.format_number(numbering.require_series(series), self.data.counters[series])

    def add(self, invoice: Invoice) -> None:
        self.data.invoices[invoice.id] = invoice

    def set_status(self, invoice_id: str, status: InvoiceStatus, paid_at: dt.datetime | None = None) -> None:
        self.data.invoices[invoice_id] = replace(self.data.invoices[invoice_id], status=status, paid_at=paid_at)

    def add_many(self, invoices: Sequence[Invoice]) -> None:
        for i in invoices:
            self.add(i)

    def next_numbers(self, series: str, count: int) -> list[str]:
        return [self.next_number(series) for _ in range(count)]

    def get_many(self, invoice_ids: Collection[str]) -> dict[str, Invoice]:
        return {i: self.data.invoices[i] for i in invoice_ids if i in self.data.invoices}

    def set_status_many(self, changes: Sequence[tuple[str, InvoiceStatus, dt.datetime | None]]) -> None:
        for invoice_id, status, paid_at in changes:
            self.set_status(invoice_id, status, paid_at)

    def get(self, account_id: str, invoice_id: str) -> Invoice | None:
        invoice = self.data.invoices.get(invoice_id)
        return invoice if invoice and invoice.account_id == account_id else None

    def page(self, account_id: str, limit: int, after: tuple[dt.datetime, str] | None) -> list[Invoice]:
        mine = sorted((i for i in self.data.invoices.values() if i.account_id == account_id),
                      key=lambda i: (i.issued_at, i.id), reverse=True)
        if after is not None:
            mine = [i for i in mine if (i.issued_at, i.id) < after]
        return mine[:limit]


class InMemoryBillingProfileRepository:
    def __init__(self, data: Data) -> None:
        self.data = data

    def get(self, account_id: str) -> BillingProfile | None:
        return self.data.profiles.get(account_id)

    def put(self, account_id: str, profile: BillingProfile, at: dt.datetime) -> None:
        self.data.profiles[account_id] = profile

    def get_many(self, account_ids: Collection[str]) -> dict[str, BillingProfile]:
        return {a: self.data.profiles[a] for a in account_ids if a in self.data.profiles}


class InMemoryChangeRequestRepository:
    def __init__(self, data: Data) -> None:
        self.data = data

    def add(self, request: ChangeRequest) -> None:
        if request.id in self.data.requests:
            raise ValueError(f"change request {request.id} exists")
        self.data.requests[request.id] = request

    def get(self, account_id: str, request_id: str, *, for_update: bool = False) -> ChangeRequest | None:
        found = self.data.requests.get(request_id)
        return found if found is not None and found.account_id == account_id else None

    def update(self, request: ChangeRequest) -> None:
        self.data.requests[request.id] = request

    def for_account(self, account_id: str, *, requested_by: str | None = None,
                    statuses: Collection[RequestStatus] = (), limit: int = 50) -> list[ChangeRequest]:
        mine = [r for r in self.data.requests.values() if r.account_id == account_id
                and (requested_by is None or r.requester.user_id == requested_by)
                and (not statuses or r.status in statuses)]
        return sorted(mine, key=lambda r: (r.created_at, r.id), reverse=True)[:limit]


class InMemoryUnitOfWork(CopyOnWriteUnitOfWork[Data]):
    """`InMemoryUnitOfWork(subscriptions, catalogue=True)` starts with the launch catalogue."""

    def __init__(self, subscriptions: list[Subscription] | None = None, *, catalogue: bool = False) -> None:
        super().__init__(Data(subscriptions=list(subscriptions or ())))
        if catalogue:
            for plan in LAUNCH_PLANS:
                self.plans.add(plan)
            for price in launch_prices():
                self.plans.add_price(price)

    def _bind(self, data: Data) -> None:
        self.plans = InMemoryPlanRepository(data)
        self.subscriptions = InMemorySubscriptionRepository(data)
        self.payment_methods = InMemoryPaymentMethodRepository(data)
        self.payments = InMemoryPaymentRepository(data)
        self.invoices = InMemoryInvoiceRepository(data)
        self.billing_profiles = InMemoryBillingProfileRepository(data)
        self.change_requests = InMemoryChangeRequestRepository(data)
        self.outbox = InMemoryOutbox(data)
