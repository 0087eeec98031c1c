"""What every online_billing use case is given, built by services.online_billing.bootstrap from settings."""
from __future__ import annotations

from dataclasses import dataclass, field

from billing_common import dependencies
from billing_common.billing_contacts import BillingContacts
from billing_common.invoicing.profile import BillingProfile
from billing_common.payments.gateway import PaymentGateway
from services.online_billing.domain.renewals import DunningSchedule
from services.online_billing.service_layer.ports import UnitOfWork


def _example_vendor() -> BillingProfile:
    return BillingProfile(company_name="Meetings Example, Inc.", address_line1="500 Market Street",
                          city="San Francisco", region="CA", postal_code="94105", country="US")


@dataclass(kw_only=True)
class Dependencies(dependencies.Dependencies[UnitOfWork]):
    """The shared ones (uow, clock, engine, closers), the card gateway (its services' half:
    verify, charge, retrieve) and the seller printed on invoices (VendorSettings)."""

    # None only for use cases that never charge (tests of reads); the ones that do refuse to run.
    gateway: PaymentGateway | None = None
    vendor: BillingProfile = field(default_factory=_example_vendor)
    # Invoices are numbered per calendar year of issue: "BC-2026-000001" (numbering.yearly_series).
    invoice_prefix: str = "BC"
    # The billing run's retries of a declined renewal (days after the first failure).
    dunning: DunningSchedule = field(default_factory=DunningSchedule)
    # Linked from the billing run's mails (update the card, reactivate).
    billing_center_url: str = "http://127.0.0.1:8080"
    # Whom the billing mails go to besides the invoice recipients (identity's billing contacts);
    # None: nobody (no identity configured, dev and test only).
    contacts: BillingContacts | None = None

    @property
    def payments(self) -> PaymentGateway:
        if self.gateway is None:
            raise RuntimeError("these dependencies were built without a payment gateway")
        return self.gateway
