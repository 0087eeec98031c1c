"""What every enterprise_portal use case is given, built by services.enterprise_portal.bootstrap from settings."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from billing_common import dependencies
from billing_common.invoicing.profile import BillingProfile
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


def _example_vendor() -> BillingProfile:
    return BillingProfile(company_name="Meetings Example, Inc.", address_line1="500 Market Street",
                          city="San Francisco", region="CA", postal_code="94105", country="US")


@dataclass(kw_only=True)
class Dependencies(dependencies.Dependencies[UnitOfWork]):
    """The shared ones (uow, clock, engine, closers), and where an accepted quote's invoices
    are issued, and the seller they print. The payment gateway joins here with the first use case that needs it."""

    invoice_issuer: InvoiceIssuer = field(default_factory=NoInvoiceIssuer)
    # The seller printed on quotes and invoices (VENDOR_*, billing_common.invoicing.vendor).
    vendor: BillingProfile = field(default_factory=_example_vendor)
