"""The vendor's details on every invoice come from VENDOR_* variables, checked at start-up."""
import pytest

from billing_common.invoicing.taxid import TaxId
from billing_common.invoicing.vendor import VendorSettings

BRAZILIAN_VENDOR = {
    "VENDOR_NAME": "Meetings Example Tecnologia Ltda.", "VENDOR_ADDRESS_LINE1": "Av. Paulista, 1000",
    "VENDOR_CITY": "São Paulo", "VENDOR_REGION": "SP", "VENDOR_POSTAL_CODE": "01310100", "VENDOR_COUNTRY": "br",
    "VENDOR_TAX_ID": "11.222.333/0001-81",
}


@pytest.fixture(autouse=True)
def no_vendor_environment(monkeypatch):
    for name in (*BRAZILIAN_VENDOR, "VENDOR_ADDRESS_LINE2", "BILLING_ENV"):
        monkeypatch.delenv(name, raising=False)


def test_the_vendor_is_read_from_the_environment_and_normalised_like_a_billing_profile(monkeypatch):
    for name, value in BRAZILIAN_VENDOR.items():
        monkeypatch.setenv(name, value)
    profile = VendorSettings().profile()
    assert profile.company_name == "Meetings Example Tecnologia Ltda."
    assert (profile.city, profile.postal_code, profile.country) == ("São Paulo", "01310-100", "BR")
    assert profile.tax_id == TaxId("BR", "cnpj", "11222333000181")


def test_dev_has_an_example_vendor():
    assert VendorSettings().profile().company_name == "Meetings Example, Inc."


def test_prod_refuses_to_print_invoices_in_the_examples_name(monkeypatch):
    monkeypatch.setenv("BILLING_ENV", "prod")
    with pytest.raises(ValueError, match="VENDOR_NAME"):
        VendorSettings().profile()
    monkeypatch.setenv("VENDOR_NAME", "Meetings Example, Inc.")
    assert VendorSettings().profile().company_name == "Meetings Example, Inc."


@pytest.mark.parametrize("variable, value", [("VENDOR_TAX_ID", "11.222.333/0001-82"), ("VENDOR_COUNTRY", "Brasil"),
                                             ("VENDOR_POSTAL_CODE", "0131"), ("VENDOR_NAME", " ")])
def test_a_wrong_vendor_detail_names_its_variable(monkeypatch, variable, value):
    for name, good in BRAZILIAN_VENDOR.items():
        monkeypatch.setenv(name, good)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        VendorSettings().profile()
