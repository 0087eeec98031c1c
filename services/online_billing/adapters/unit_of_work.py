"""The SQL unit of work: one transaction, the SQL repositories on its connection."""
from __future__ import annotations

from sqlalchemy import Connection

from billing_common.db import SqlUnitOfWork
from services.online_billing.adapters.repository import (
    SqlBillingProfileRepository,
    SqlChangeRequestRepository,
    SqlInvoiceRepository,
    SqlOutbox,
    SqlPaymentMethodRepository,
    SqlPaymentRepository,
    SqlPlanRepository,
    SqlSubscriptionRepository,
)


class SqlOnlineBillingUnitOfWork(SqlUnitOfWork):
    plans: SqlPlanRepository
    subscriptions: SqlSubscriptionRepository
    payment_methods: SqlPaymentMethodRepository
    payments: SqlPaymentRepository
    invoices: SqlInvoiceRepository
    billing_profiles: SqlBillingProfileRepository
    change_requests: SqlChangeRequestRepository
    outbox: SqlOutbox

    def _open(self, connection: Connection) -> None:
        self.plans = SqlPlanRepository(connection)
        self.subscriptions = SqlSubscriptionRepository(connection)
        self.payment_methods = SqlPaymentMethodRepository(connection)
        self.payments = SqlPaymentRepository(connection)
        self.invoices = SqlInvoiceRepository(connection)
        self.billing_profiles = SqlBillingProfileRepository(connection)
        self.change_requests = SqlChangeRequestRepository(connection)
        self.outbox = SqlOutbox(connection)
