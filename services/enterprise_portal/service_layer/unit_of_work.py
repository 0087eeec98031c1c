"""The unit of work the use cases run in: one transaction, the repositories on it."""
from __future__ import annotations

from typing import Protocol, Self

from sqlalchemy import Connection

from billing_common.db import SqlUnitOfWork
from services.enterprise_portal.adapters.repository import InvoiceRepository, SqlInvoiceRepository


class UnitOfWork(Protocol):
    invoices: InvoiceRepository

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class SqlEnterprisePortalUnitOfWork(SqlUnitOfWork):
    invoices: SqlInvoiceRepository

    def _open(self, connection: Connection) -> None:
        self.invoices = SqlInvoiceRepository(connection)
