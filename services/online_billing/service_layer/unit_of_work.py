"""The unit of work the use cases run in: one transaction, the repositories on it."""
from __future__ import annotations

from typing import Protocol, Self

from sqlalchemy import Connection

from billing_common.db import SqlUnitOfWork
from services.online_billing.adapters.repository import (
    PlanRepository,
    SqlPlanRepository,
    SqlSubscriptionRepository,
    SubscriptionRepository,
)


class UnitOfWork(Protocol):
    plans: PlanRepository
    subscriptions: SubscriptionRepository

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class SqlOnlineBillingUnitOfWork(SqlUnitOfWork):
    plans: SqlPlanRepository
    subscriptions: SqlSubscriptionRepository

    def _open(self, connection: Connection) -> None:
        self.plans = SqlPlanRepository(connection)
        self.subscriptions = SqlSubscriptionRepository(connection)
