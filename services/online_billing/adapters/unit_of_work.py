"""The SQL unit of work: one transaction, the SQL repositories on its connection."""
from __future__ import annotations

from sqlalchemy import Connection

from billing_common.db import SqlUnitOfWork
from services.online_billing.adapters.repository import SqlPlanRepository, SqlSubscriptionRepository


class SqlOnlineBillingUnitOfWork(SqlUnitOfWork):
    plans: SqlPlanRepository
    subscriptions: SqlSubscriptionRepository

    def _open(self, connection: Connection) -> None:
        self.plans = SqlPlanRepository(connection)
        self.subscriptions = SqlSubscriptionRepository(connection)
