"""The SQL unit of work: one transaction, the SQL repository on its connection."""
from __future__ import annotations

from sqlalchemy import Connection

from billing_common.db import SqlUnitOfWork
from services.enterprise_portal.adapters.repository import SqlInvoiceRepository


class SqlEnterprisePortalUnitOfWork(SqlUnitOfWork):
    invoices: SqlInvoiceRepository

    def _open(self, connection: Connection) -> None:
        self.invoices = SqlInvoiceRepository(connection)
