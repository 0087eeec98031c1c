"""The SQL unit of work: one transaction, the SQL repositories on its connection."""
from __future__ import annotations

from sqlalchemy import Connection

from billing_common.db import SqlUnitOfWork
from services.enterprise_portal.adapters.repository import (
    SqlCardPaymentRepository,
    SqlCreditRepository,
    SqlInvoiceRepository,
    SqlOutbox,
    SqlPurchaseOrderRepository,
    SqlReceiptRepository,
)


class SqlEnterprisePortalUnitOfWork(SqlUnitOfWork):
    invoices: SqlInvoiceRepository
    receipts: SqlReceiptRepository
    credits: SqlCreditRepository
    card_payments: SqlCardPaymentRepository
    purchase_orders: SqlPurchaseOrderRepository
    outbox: SqlOutbox

    def _open(self, connection: Connection) -> None:
        self.invoices = SqlInvoiceRepository(connection)
        self.receipts = SqlReceiptRepository(connection)
        self.credits = SqlCreditRepository(connection)
        self.card_payments = SqlCardPaymentRepository(connection)
        self.purchase_orders = SqlPurchaseOrderRepository(connection)
        self.outbox = SqlOutbox(connection)
