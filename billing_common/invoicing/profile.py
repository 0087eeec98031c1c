"""The billing profile a billing contact edits: who the invoices are made out to.

Plain Python (no web, no gRPC): the services validate with `validate_billing_profile` before
they store a profile, and the portals' forms may call it to say what is wrong before they
call a service, so both refuse the same things. Each problem is an InvalidArgument naming the
field (S24); the first one found is raised.

What is checked, beyond the limits of billing_common.limits:
- company name, first address line, city and country are required; the second address
  line, the region (state, province) and the tax ID are optional;
- the country is an ISO 3166-1 alpha-2 code; the tax ID follows its rules (taxid.py);
- the postal code is required and checked where its shape is known, Brazil's CEP ("01310-100")
  and the US ZIP code ("94105" or "94105-1234"), and optional, free but bounded, elsewhere
  (some countries have none);
- up to MAX_INVOICE_EMAILS extra recipients of every invoice mail, each an address
  billing_common.limits accepts, lower-cased; blanks are dropped and repeats kept once.

Text is NFC-normalised, so "Pão" typed with a combining tilde is stored as the same
characters as one typed with "ã" (the PDF font has the precomposed letters).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from billing_common.errors import InvalidArgument
from billing_common.invoicing.countries import COUNTRIES
from billing_common.invoicing.taxid import TaxId, validate_tax_id
from billing_common.limits import (
    MAX_ADDRESS_LINE,
    MAX_CITY,
    MAX_COMPANY_NAME,
    MAX_EMAIL,
    MAX_INVOICE_EMAILS,
    MAX_POSTAL_CODE,
    MAX_REGION,
    has_disallowed_characters,
    is_valid_email,
)

_CEP = re.compile(r"(\d{5})-?(\d{3})")
_ZIP = re.compile(r"\d{5}(-\d{4})?")
_POSTAL_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z -]*")


@dataclass(frozen=True, slots=True)
class BillingProfile:
    """A validated profile; also the shape of the vendor's own details on an invoice."""

    company_name: str
    address_line1: str
    city: str
    country: str
    address_line2: str = ""
    region: str = ""
    postal_code: str = ""
    tax_id: TaxId | None = None
    invoice_emails: tuple[str, ...] = ()


def validate_billing_profile(
    *,
    company_name: str,
    address_line1: str,
    city: str,
    country: str,
    address_line2: str = "",
    region: str = "",
    postal_code: str = "",
    tax_id: str = "",
    invoice_emails: Iterable[str] = (),
) -> BillingProfile:
    """The profile, normalised, or InvalidArgument naming the first field that is wrong."""
    company_name = _text(company_name, "company_name", MAX_COMPANY_NAME, required=True)
    address_line1 = _text(address_line1, "address_line1", MAX_ADDRESS_LINE, required=True)
    address_line2 = _text(address_line2, "address_line2", MAX_ADDRESS_LINE)
    city = _text(city, "city", MAX_CITY, required=True)
    region = _text(region, "region", MAX_REGION)
    country = _country(country)
    postal_code = _postal_code(country, postal_code)
    if not isinstance(tax_id, str):
        raise InvalidArgument("tax_id must be text", field="tax_id")
    tax = validate_tax_id(country, tax_id) if tax_id.strip() else None
    return BillingProfile(
        company_name=company_name,
        address_line1=address_line1,
        address_line2=address_line2,
        city=city,
        region=region,
        postal_code=postal_code,
        country=country,
        tax_id=tax,
        invoice_emails=validate_invoice_emails(invoice_emails),
    )


def validate_invoice_emails(values: Iterable[str], *, field: str = "invoice_emails") -> tuple[str, ...]:
    """Up to MAX_INVOICE_EMAILS addresses, lower-cased, blanks dropped, each kept once."""
    if isinstance(values, str):
        raise InvalidArgument(f"{field} must be a list of email addresses", field=field)
    kept: list[str] = []
    for position, value in enumerate(values, start=1):
        if not isinstance(value, str):
            raise InvalidArgument(f"{field} must be a list of email addresses", field=field)
        value = value.strip()
        if not value:
            continue
        if len(value) > MAX_EMAIL or not is_valid_email(value):
            raise InvalidArgument(f"{field}: address {position} is not a valid email address", field=field)
        if value.lower() not in kept:
            kept.append(value.lower())
        if len(kept) > MAX_INVOICE_EMAILS:
            raise InvalidArgument(f"{field} holds at most {MAX_INVOICE_EMAILS} addresses", field=field)
    return tuple(kept)


def _text(value: str, field: str, limit: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{field} must be text", field=field)
    value = unicodedata.normalize("NFC", value.strip())
    if required and not value:
        raise InvalidArgument(f"{field} is required", field=field)
    if len(value) > limit:
        raise InvalidArgument(f"{field} is longer than {limit} characters", field=field)
    if has_disallowed_characters(value):
        raise InvalidArgument(f"{field} contains characters that cannot be used", field=field)
    return value


def _country(value: str) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in COUNTRIES:
        raise InvalidArgument("country must be an ISO 3166-1 two-letter code", field="country")
    return code


def _postal_code(country: str, value: str) -> str:
    field = "postal_code"
    value = value.strip().upper() if isinstance(value, str) else ""
    if country == "BR":
        match = _CEP.fullmatch(value)
        if not match:
            raise InvalidArgument(f"{field} must be a CEP of 8 digits, like 01310-100", field=field)
        return f"{match[1]}-{match[2]}"
    if country == "US":
        if not _ZIP.fullmatch(value):
            raise InvalidArgument(f"{field} must be a ZIP code, like 94105 or 94105-1234", field=field)
        return value
    if not value:
        return ""
    if len(value) > MAX_POSTAL_CODE:
        raise InvalidArgument(f"{field} is longer than {MAX_POSTAL_CODE} characters", field=field)
    if not _POSTAL_CODE.fullmatch(value):
        raise InvalidArgument(f"{field} may hold only letters, digits, spaces and hyphens", field=field)
    return value
