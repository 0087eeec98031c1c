"""What every enterprise_portal use case is given, built by services.enterprise_portal.bootstrap from settings."""
from __future__ import annotations

from dataclasses import dataclass, field

from billing_common import dependencies
from billing_common.billing_contacts import BillingContacts
from billing_common.invoicing.profile import BillingProfile
from billing_common.payments.gateway import PaymentGateway
from services.enterprise_portal.service_layer.ports import InvoiceIssuer, UnitOfWork


def _invoicing_issuer() -> InvoiceIssuer:
    # Imported here: the invoicing use cases import this module.
    from services.enterprise_portal.service_layer.quote_invoicing import InvoicingIssuer
    return InvoicingIssuer()


def _example_vendor() -> BillingProfile:
    return BillingProfile(company_name="Meetings Example, Inc.", address_line1="500 Market Street",
                          city="San Francisco", region="CA", postal_code="94105", country="US")


@dataclass(kw_only=True)
class Dependencies(dependencies.Dependencies[UnitOfWork]):
    """The shared ones (uow, clock, engine, closers), the card gateway (its services' half:
    charge and retrieve), the seller printed on invoices, quotes and statements (VendorSettings),
    and where an accepted quote's invoices are issued."""

    # None only for use cases that never charge (tests of reads); the ones that do refuse to run.
    gateway: PaymentGateway | None = None
    vendor: BillingProfile = field(default_factory=_example_vendor)
    # Enterprise invoices are numbered per calendar year of issue: "EP-2026-000001".
    invoice_prefix: str = "EP"
    # Linked from the mails (the invoice, the PO, the statement).
    portal_url: str = "http://127.0.0.1:8081"
    # The invoicing use cases (quote_invoicing.InvoicingIssuer); unit tests of quotes pass a fake.
    invoice_issuer: InvoiceIssuer = field(default_factory=_invoicing_issuer)
    # Whom the mails go to: the accounts' billing contacts and reps (identity's, asked when a
    # mail is sent: service_layer.mails). None: no identity configured (dev, tests of other
    # things), and nobody is mailed.
    contacts: BillingContacts | None = None

    @property
    def payments(self) -> PaymentGateway:
        if self.gateway is None:
            raise RuntimeError("these dependencies were built without a payment gateway")
        return self.gateway
