"""The billing profile: required fields, limits, postal codes, tax ID by country, extra
invoice recipients; every refusal names its field."""
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_common.errors import InvalidArgument
from billing_common.invoicing.profile import BillingProfile, validate_billing_profile, validate_invoice_emails
from billing_common.invoicing.taxid import TaxId
from billing_common.limits import MAX_COMPANY_NAME, MAX_INVOICE_EMAILS

PADARIA = dict(
    company_name="Padaria Pão Quente Ltda.",
    address_line1="Rua Augusta, 1500",
    address_line2="Loja 3",
    city="São Paulo",
    region="SP",
    postal_code="01304001",
    country="br",
    tax_id="12.ABC.345/01DE-35",
    invoice_emails=["Financeiro@Padaria.test", " ", "contas@padaria.test"],
)


def refused_field(**changes):
    with pytest.raises(InvalidArgument) as error:
        validate_billing_profile(**{**PADARIA, **changes})
    return error.value.field


def test_a_brazilian_profile_is_stored_normalised():
    profile = validate_billing_profile(**PADARIA)
    assert profile == BillingProfile(
        company_name="Padaria Pão Quente Ltda.",
        address_line1="Rua Augusta, 1500",
        address_line2="Loja 3",
        city="São Paulo",
        region="SP",
        postal_code="01304-001",
        country="BR",
        tax_id=TaxId("BR", "cnpj", "12ABC34501DE35"),
        invoice_emails=("financeiro@padaria.test", "contas@padaria.test"),
    )


def test_only_the_name_first_address_line_city_and_country_are_required_outside_brazil_and_the_us():
    profile = validate_billing_profile(company_name="Acme Ireland", address_line1="1 Main St", city="Dublin",
                                       country="IE")
    assert profile.tax_id is None and profile.postal_code == "" and profile.invoice_emails == ()


@pytest.mark.parametrize("field", ["company_name", "address_line1", "city", "country"])
def test_a_missing_required_field_is_refused_by_name(field):
    assert refused_field(**{field: "  "}) == field


@pytest.mark.parametrize("field, limit", [("company_name", 150), ("address_line1", 100), ("address_line2", 100),
                                          ("city", 100), ("region", 100)])
def test_text_at_its_limit_is_kept_and_one_more_character_is_refused(field, limit):
    at_limit = validate_billing_profile(**{**PADARIA, field: "ã" * limit})
    assert getattr(at_limit, field) == "ã" * limit
    assert refused_field(**{field: "ã" * (limit + 1)}) == field


@pytest.mark.parametrize("field", ["company_name", "address_line1", "address_line2", "city", "region"])
@pytest.mark.parametrize("bad", ["Acme\x00", "Acme\u202eemcA", "Acme\nInc", "Acme\ufffd"])
def test_characters_nobody_types_are_refused_by_field(field, bad):
    assert refused_field(**{field: bad}) == field


@pytest.mark.parametrize("field", ["company_name", "city", "postal_code", "tax_id", "country"])
def test_a_value_that_is_not_text_is_refused_naming_its_field(field):
    with pytest.raises(InvalidArgument) as error:
        validate_billing_profile(**{**PADARIA, field: 42})
    assert error.value.field in (field, "postal_code", "country")


def test_text_is_stored_in_composed_form():
    decomposed = unicodedata.normalize("NFD", "Padaria Pão Quente")
    assert decomposed != "Padaria Pão Quente"
    assert validate_billing_profile(**{**PADARIA, "company_name": decomposed}).company_name == "Padaria Pão Quente"


@pytest.mark.parametrize("typed, stored", [("01304-001", "01304-001"), ("01304001", "01304-001"),
                                           (" 01304-001 ", "01304-001")])
def test_a_brazilian_cep_is_stored_with_its_hyphen(typed, stored):
    assert validate_billing_profile(**{**PADARIA, "postal_code": typed}).postal_code == stored


@pytest.mark.parametrize("country, bad", [("BR", ""), ("BR", "1304-001"), ("BR", "01304-0011"), ("BR", "ABCDE-123"),
                                          ("US", ""), ("US", "9410"), ("US", "94105-12"), ("US", "9410A"),
                                          ("GB", "SW1A 1AA!"), ("GB", "A" * 17)])
def test_a_postal_code_of_the_wrong_shape_is_refused(country, bad):
    assert refused_field(country=country, postal_code=bad, tax_id="") == "postal_code"


@pytest.mark.parametrize("country, typed, stored", [("US", "94105", "94105"), ("US", "94105-1234", "94105-1234"),
                                                    ("GB", "sw1a 1aa", "SW1A 1AA"), ("PT", "1000-001", "1000-001"),
                                                    ("IE", "", "")])
def test_postal_codes_elsewhere(country, typed, stored):
    assert validate_billing_profile(**{**PADARIA, "country": country, "postal_code": typed,
                                       "tax_id": ""}).postal_code == stored


@pytest.mark.parametrize("country, tax_id", [("BR", "390.533.447-06"), ("BR", "DE136695976"),
                                             ("DE", "12.ABC.345/01DE-35"), ("DE", "FR40303265045")])
def test_a_tax_id_is_checked_by_the_profiles_country(country, tax_id):
    postal_code = "01304-001" if country == "BR" else "10115"
    assert refused_field(country=country, postal_code=postal_code, tax_id=tax_id) == "tax_id"


def test_a_german_profile_with_its_vat_number():
    profile = validate_billing_profile(company_name="Beispiel GmbH", address_line1="Unter den Linden 1",
                                       city="Berlin", postal_code="10117", country="DE", tax_id="136695976")
    assert profile.tax_id == TaxId("DE", "vat", "DE136695976")


@pytest.mark.parametrize("country", ["XX", "Brazil", "", "B R", "EU"])
def test_a_country_that_is_no_iso_code_is_refused(country):
    assert refused_field(country=country) == "country"


def test_five_extra_recipients_are_kept_and_a_sixth_is_refused():
    five = [f"ap{i}@acme.test" for i in range(MAX_INVOICE_EMAILS)]
    assert validate_invoice_emails(five) == tuple(five)
    with pytest.raises(InvalidArgument) as error:
        validate_invoice_emails([*five, "ap9@acme.test"])
    assert error.value.field == "invoice_emails"


def test_repeated_and_blank_recipients_count_once_or_not_at_all():
    typed = ["AP@acme.test", "ap@ACME.test", "", "  ", *(f"x{i}@acme.test" for i in range(4))]
    assert validate_invoice_emails(typed) == ("ap@acme.test", "x0@acme.test", "x1@acme.test", "x2@acme.test",
                                              "x3@acme.test")


@pytest.mark.parametrize("bad", ["not-an-email", "a@b", "ap@acme.test\u200b", "two@@acme.test",
                                 "a" * 250 + "@acme.test",
                                 "ap@acme.test\nBcc: all@acme.test"])
def test_an_address_the_house_rule_refuses_is_refused_saying_which(bad):
    with pytest.raises(InvalidArgument) as error:
        validate_invoice_emails(["ok@acme.test", bad])
    assert error.value.field == "invoice_emails"
    assert "address 2" in error.value.message


def test_recipients_must_be_a_list_not_one_string():
    with pytest.raises(InvalidArgument):
        validate_invoice_emails("ap@acme.test")


@settings(deadline=None)  # no timing: a loaded machine must not fail a correct example
@given(st.text(max_size=MAX_COMPANY_NAME + 5), st.text(max_size=20), st.text(max_size=30), st.text(max_size=45),
       st.lists(st.text(max_size=30), max_size=7))
def test_any_input_gives_a_profile_or_a_refusal_naming_a_field(name, country, postal_code, tax_id, emails):
    fields = {"company_name", "country", "postal_code", "tax_id", "invoice_emails"}
    try:
        profile = validate_billing_profile(company_name=name, address_line1="Rua A, 1", city="Recife",
                                           country=country, postal_code=postal_code, tax_id=tax_id,
                                           invoice_emails=emails)
    except InvalidArgument as error:
        assert error.field in fields
    else:
        assert 0 < len(profile.company_name) <= MAX_COMPANY_NAME
        assert len(profile.invoice_emails) <= MAX_INVOICE_EMAILS


printable = st.characters(blacklist_categories=("Cc", "Cs"),
                          blacklist_characters="\ufffd\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@settings(deadline=None)  # no timing: a loaded machine must not fail a correct example
@given(st.text(min_size=1, max_size=MAX_COMPANY_NAME, alphabet=printable))
def test_any_printable_company_name_within_the_limit_is_kept(name):
    normalised = unicodedata.normalize("NFC", name.strip())
    if not normalised or len(normalised) > MAX_COMPANY_NAME:
        return
    assert validate_billing_profile(**{**PADARIA, "company_name": name}).company_name == normalised


def test_the_invoicing_package_is_plain_python_with_no_web_or_grpc_import():
    # The portals' forms may import the profile rules; the services import all of it.
    from tests.unit.common.test_package_boundaries import offenders

    assert offenders("billing_common/invoicing", ("grpc", "flask", "flask_babel", "flask_wtf", "werkzeug", "jinja2",
                                                  "wtforms", "web", "services")) == {}
