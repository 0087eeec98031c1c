"""The SQL unit of work: one transaction, the SQL repositories on its connection."""
from __future__ import annotations

from sqlalchemy import Connection

from billing_common.db import SqlUnitOfWork
from services.enterprise_portal.adapters.quote_repository import SqlOutbox, SqlQuoteRepository
from services.enterprise_portal.adapters.repository import SqlInvoiceRepository


class SqlEnterprisePortalUnitOfWork(SqlUnitOfWork):
    invoices: SqlInvoiceRepository
    quotes: SqlQuoteRepository
    outbox: SqlOutbox

    def _open(self, connection: Connection) -> None:
        self.invoices = SqlInvoiceRepository(connection)
        self.quotes = SqlQuoteRepository(connection)
        self.outbox = SqlOutbox(connection)
