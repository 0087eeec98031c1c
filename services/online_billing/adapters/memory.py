"""In-memory twins of the SQL repositories and unit of work, for unit tests."""
from __future__ import annotations

from billing_common.memory import BaseInMemoryUnitOfWork
from services.online_billing.domain.model import BillingInterval, Plan, PlanPrice, Subscription


class InMemoryPlanRepository:
    def __init__(self) -> None:
        self.plans: dict[str, Plan] = {}
        self.prices: dict[tuple[str, str, BillingInterval], PlanPrice] = {}

    def add(self, plan: Plan) -> None:
        if plan.code in self.plans:
            raise ValueError(f"plan {plan.code} exists")
        self.plans[plan.code] = plan

    def add_price(self, price: PlanPrice) -> None:
        if price.plan_code not in self.plans:
            raise ValueError(f"no plan {price.plan_code}")
        self.prices[(price.plan_code, price.unit_price.currency, price.interval)] = price


class InMemorySubscriptionRepository:
    def __init__(self, subscriptions: list[Subscription] | None = None) -> None:
        self.subscriptions: list[Subscription] = list(subscriptions or ())

    def add(self, subscription: Subscription) -> None:
        self.subscriptions.append(subscription)

    def for_account(self, account_id: str) -> list[Subscription]:
        return [s for s in self.subscriptions if s.account_id == account_id]


class InMemoryUnitOfWork(BaseInMemoryUnitOfWork):
    def __init__(self, subscriptions: list[Subscription] | None = None) -> None:
        super().__init__()
        self.plans = InMemoryPlanRepository()
        self.subscriptions = InMemorySubscriptionRepository(subscriptions)
