"""Tax IDs on invoices, checked by the rules of the customer's country (python-stdnum).

- Brazil: a CPF (a person, 11 digits) or a CNPJ (a company, 14 characters), told apart by
  length, and their check digits. The CNPJ may be alphanumeric, the form the Receita Federal
  issues from July 2026 (the first 12 characters letters or digits, each valued by its ASCII
  code minus 48, the two check digits still digits); python-stdnum 2.x checks both forms. A
  CPF of eleven equal digits passes the arithmetic but is never issued, so it is refused.
- EU member states: the VAT number's format and check digits (stdnum.eu.vat), with or
  without its country prefix; stored with it ("DE136695976", Greece's "EL..."). No VIES call:
  whether the number is registered is another question, and it needs a network.
- Any other country: free text up to MAX_TAX_ID characters, since we cannot know every
  country's rules; only characters nobody types are refused.

Values are stored compact (no separators, upper case) and shown formatted (`TaxId.formatted`).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from stdnum.br import cnpj, cpf
from stdnum.eu import vat
from stdnum.exceptions import InvalidChecksum, ValidationError

from billing_common.errors import InvalidArgument
from billing_common.invoicing.countries import COUNTRIES, VAT_PREFIX
from billing_common.limits import MAX_TAX_ID, has_disallowed_characters

TaxIdKind = Literal["cpf", "cnpj", "vat", "other"]

# What people type between the digits, pasted dashes included.
_SEPARATORS = re.compile(r"[\s.\-/\u2010-\u2015]")
_ALPHANUMERIC = re.compile(r"[0-9A-Z]+")


@dataclass(frozen=True, slots=True)
class TaxId:
    country: str
    kind: TaxIdKind
    # Compact: "12ABC34501DE35", "39053344705", "DE136695976"; as typed for other countries.
    value: str

    def formatted(self) -> str:
        """For people: "12.ABC.345/01DE-35", "390.533.447-05"; VAT numbers stay compact."""
        if self.kind == "cnpj":
            return str(cnpj.format(self.value))
        if self.kind == "cpf":
            return str(cpf.format(self.value))
        return self.value


def validate_tax_id(country: str, value: str, *, field: str = "tax_id") -> TaxId:
    """`value` checked as a tax ID of `country` (ISO 3166-1 alpha-2), compacted; else
    InvalidArgument naming `field` (or `country`, for a code that is no country)."""
    if country not in COUNTRIES:
        raise InvalidArgument("country must be an ISO 3166-1 two-letter code", field="country")
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{field} is required", field=field)
    value = unicodedata.normalize("NFC", value.strip())
    if len(value) > MAX_TAX_ID:
        raise InvalidArgument(f"{field} is longer than {MAX_TAX_ID} characters", field=field)
    if has_disallowed_characters(value):
        raise InvalidArgument(f"{field} contains characters that cannot be used", field=field)
    if country == "BR":
        return _brazilian(_compact(value, field), field)
    if country in VAT_PREFIX:
        return _eu_vat(country, _compact(value, field), field)
    return TaxId(country, "other", value)


def _compact(value: str, field: str) -> str:
    compact = _SEPARATORS.sub("", value).upper()
    if not _ALPHANUMERIC.fullmatch(compact):
        raise InvalidArgument(f"{field} may hold only letters, digits, spaces, dots, hyphens and slashes",
                              field=field)
    return compact


def _brazilian(number: str, field: str) -> TaxId:
    if len(number) == 11 and number.isdigit():
        if len(set(number)) == 1 or not cpf.is_valid(number):
            raise InvalidArgument(f"{field} is not a valid CPF: its check digits do not match", field=field)
        return TaxId("BR", "cpf", number)
    if len(number) == 14:
        if not number[-2:].isdigit():
            raise InvalidArgument(f"{field} is not a valid CNPJ: it must end in two check digits", field=field)
        try:
            return TaxId("BR", "cnpj", str(cnpj.validate(number)))
        except InvalidChecksum:
            raise InvalidArgument(f"{field} is not a valid CNPJ: its check digits do not match",
                                  field=field) from None
        except ValidationError:
            raise InvalidArgument(f"{field} is not a valid CNPJ", field=field) from None
    raise InvalidArgument(f"{field} must be a CPF (11 digits) or a CNPJ (14 letters and digits)", field=field)


def _eu_vat(country: str, number: str, field: str) -> TaxId:
    prefix = VAT_PREFIX[country]
    candidates = [prefix + number]
    if number[:2] == prefix or (country == "GR" and number[:2] == "GR"):
        # Typed with its prefix (Greece's ISO code accepted for "EL"); without it is tried too,
        # for the rare number whose own first characters look like a prefix.
        candidates.insert(0, prefix + number[2:])
    checksum_failed = False
    for candidate in candidates:
        try:
            return TaxId(country, "vat", str(vat.validate(candidate)))
        except InvalidChecksum:
            checksum_failed = True
        except ValidationError:
            pass
    if number[:2] in VAT_PREFIX.values() and number[:2] != prefix:
        raise InvalidArgument(f"{field} is the VAT number of another country than the one chosen", field=field)
    if checksum_failed:
        raise InvalidArgument(f"{field} is not a valid VAT number: its check digits do not match", field=field)
    raise InvalidArgument(f"{field} is not in the format of a VAT number of this country", field=field)
