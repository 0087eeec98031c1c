"""What the use cases need from the outside world; adapters implement these, fakes too."""
from __future__ import annotations

from typing import Protocol, Self

from services.online_billing.domain.model import Plan, PlanPrice, Subscription


class PlanRepository(Protocol):
    def add(self, plan: Plan) -> None: ...
    def add_price(self, price: PlanPrice) -> None: ...


class SubscriptionRepository(Protocol):
    def add(self, subscription: Subscription) -> None: ...
    def for_account(self, account_id: str) -> list[Subscription]: ...


class UnitOfWork(Protocol):
    """One transaction: leaving the `with` block without `commit()` writes nothing."""

    plans: PlanRepository
    subscriptions: SubscriptionRepository

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
