"""In-memory twins of the SQL repository and unit of work, for unit tests."""
from __future__ import annotations

from billing_common.memory import BaseInMemoryUnitOfWork
from services.enterprise_portal.domain.model import Invoice


class InMemoryInvoiceRepository:
    def __init__(self, invoices: list[Invoice] | None = None) -> None:
        self.invoices: list[Invoice] = list(invoices or ())

    def add(self, invoice: Invoice) -> None:
        if any(i.number == invoice.number for i in self.invoices):
            raise ValueError(f"invoice {invoice.number} exists")
        self.invoices.append(invoice)

    def open_for_account(self, account_id: str) -> list[Invoice]:
        return sorted(
            (i for i in self.invoices if i.account_id == account_id and i.is_open),
            key=lambda i: (i.due_on, i.number),
        )

    def latest_currency(self, account_id: str) -> str | None:
        mine = [i for i in self.invoices if i.account_id == account_id]
        return max(mine, key=lambda i: (i.issued_on, i.number)).currency if mine else None


class InMemoryUnitOfWork(BaseInMemoryUnitOfWork):
    def __init__(self, invoices: list[Invoice] | None = None) -> None:
        super().__init__()
        self.invoices = InMemoryInvoiceRepository(invoices)
