"""What every enterprise_portal use case is given, built by services.enterprise_portal.bootstrap from settings."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from billing_common import dependencies
from services.enterprise_portal.domain.quotes import Quote, QuoteVersion
from services.enterprise_portal.service_layer.ports import InvoiceIssuer, UnitOfWork


class NoInvoiceIssuer:
    """Until the invoices use cases are wired in: no PO is known (a contact enters a new PO
    number) and an acceptance issues no invoice (the accepted version is the order)."""

    def valid_po_numbers(self, uow: UnitOfWork, account_id: str, day: dt.date) -> list[str]:
        return []

    def issue_for_quote(self, uow: UnitOfWork, quote: Quote, version: QuoteVersion, issued_on: dt.date
                        ) -> list[str]:
        return []


@dataclass(kw_only=True)
class Dependencies(dependencies.Dependencies[UnitOfWork]):
    """The shared ones (uow, clock, engine, closers), and where an accepted quote's invoices
    are issued. The payment gateway joins here with the first use case that needs it."""

    invoice_issuer: InvoiceIssuer = field(default_factory=NoInvoiceIssuer)
