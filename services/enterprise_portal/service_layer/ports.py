"""What the use cases need from the outside world; adapters implement these, fakes too."""
from __future__ import annotations

from typing import Protocol, Self

from services.enterprise_portal.domain.model import Invoice


class InvoiceRepository(Protocol):
    def add(self, invoice: Invoice) -> None: ...
    def open_for_account(self, account_id: str) -> list[Invoice]: ...
    def latest_currency(self, account_id: str) -> str | None: ...


class UnitOfWork(Protocol):
    """One transaction: leaving the `with` block without `commit()` writes nothing."""

    invoices: InvoiceRepository

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
