"""The vendor's own name, address and tax ID, printed on every invoice, from configuration.

Both billing services read the same VENDOR_* variables, so their invoices name the same seller.
The defaults are an example company for dev and test; in prod VENDOR_NAME must be set, so no
real invoice goes out in the example's name. The values pass the same checks as a customer's
billing profile; a wrong one stops the service at start-up, naming the variable.
"""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from billing_common.config import ConfigurationError, Environment
from billing_common.errors import InvalidArgument
from billing_common.invoicing.profile import BillingProfile, validate_billing_profile


class VendorSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="VENDOR_")

    env: Environment = Field("dev", validation_alias="BILLING_ENV")
    name: str = "Meetings Example, Inc."
    address_line1: str = "500 Market Street"
    address_line2: str = ""
    city: str = "San Francisco"
    region: str = "CA"
    postal_code: str = "94105"
    country: str = "US"
    tax_id: str = ""

    def profile(self) -> BillingProfile:
        """The vendor as an invoice shows it; ValueError naming the variable when it is wrong."""
        if self.env == "prod" and "name" not in self.model_fields_set:
            raise ValueError("VENDOR_NAME (and the vendor's address) must be set in prod")
        try:
            return validate_billing_profile(
                company_name=self.name, address_line1=self.address_line1, address_line2=self.address_line2,
                city=self.city, region=self.region, postal_code=self.postal_code, country=self.country,
                tax_id=self.tax_id)
        except InvalidArgument as error:
            variable = "VENDOR_NAME" if error.field == "company_name" else f"VENDOR_{(error.field or '').upper()}"
            raise ValueError(f"{variable}: {error.message}") from None


def vendor_or_configured(vendor: BillingProfile | None) -> BillingProfile:
    """A billing service's bootstrap: `vendor` when a test passes one in, else VENDOR_*'s;
    ConfigurationError naming the variable when that is wrong (the service does not start)."""
    if vendor is not None:
        return vendor
    try:
        return VendorSettings().profile()
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
