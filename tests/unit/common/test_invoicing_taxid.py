"""Tax IDs by country: Brazil's CPF and CNPJ (numeric and the alphanumeric form of July 2026),
EU VAT numbers' format and check digits, free text elsewhere."""
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from billing_common.errors import InvalidArgument
from billing_common.invoicing.countries import COUNTRIES, EU_MEMBER_STATES, country_name
from billing_common.invoicing.taxid import TaxId, validate_tax_id


def receita_cnpj_check_digits(base: str) -> str:
    """The Receita Federal's rule, written here independently of python-stdnum: each character
    is worth its ASCII code minus 48 ("0".."9" -> 0..9, "A" -> 17 .. "Z" -> 42), weights 2..9
    from the right and starting again, remainder of 11; 0 or 1 gives 0, else 11 minus it."""
    def digit(chars: str) -> str:
        total = sum((ord(ch) - 48) * (2 + i % 8) for i, ch in enumerate(reversed(chars)))
        remainder = total % 11
        return "0" if remainder < 2 else str(11 - remainder)
    first = digit(base)
    return first + digit(base + first)


def cpf_check_digits(base: str) -> str:
    def digit(digits: str) -> str:
        total = sum(int(d) * w for d, w in zip(digits, range(len(digits) + 1, 1, -1), strict=True))
        return str(total * 10 % 11 % 10)
    first = digit(base)
    return first + digit(base + first)


def refused(country, value):
    with pytest.raises(InvalidArgument) as error:
        validate_tax_id(country, value)
    assert error.value.field == "tax_id"
    return error.value.message


# --- Brazil -------------------------------------------------------------------------------

def test_the_receitas_own_example_of_an_alphanumeric_cnpj_is_valid():
    # 12ABC34501DE: 1*5+2*4+17*3+18*2+19*9+3*8+4*7+5*6+0*5+1*4+20*3+21*2 = 459, 459 % 11 = 8,
    # 11 - 8 = 3; with the 3 appended the second sum is 424, 424 % 11 = 6, 11 - 6 = 5.
    assert receita_cnpj_check_digits("12ABC34501DE") == "35"
    tax_id = validate_tax_id("BR", "12.ABC.345/01DE-35")
    assert tax_id == TaxId("BR", "cnpj", "12ABC34501DE35")
    assert tax_id.formatted() == "12.ABC.345/01DE-35"


@pytest.mark.parametrize("typed", ["12ABC34501DE35", "12abc34501de35", "12 ABC 345 01DE 35", "12.ABC.345/01DE–35"])
def test_an_alphanumeric_cnpj_is_accepted_as_people_type_it(typed):
    assert validate_tax_id("BR", typed).value == "12ABC34501DE35"


@pytest.mark.parametrize("cnpj", ["16.727.230/0001-97", "33.000.167/0001-01", "00.000.000/0001-91", "11222333000181"])
def test_numeric_cnpjs_with_the_right_check_digits_are_valid(cnpj):
    tax_id = validate_tax_id("BR", cnpj)
    assert tax_id.kind == "cnpj"
    assert tax_id.value == cnpj.replace(".", "").replace("/", "").replace("-", "")


@pytest.mark.parametrize("cnpj, why", [
    ("16.727.230/0001-98", "check digits"),
    ("12.ABC.345/01DE-36", "check digits"),
    ("12.ABC.345/01DE-53", "check digits"),
    ("12.ABC.345/01DE-3A", "two check digits"),
    ("00.000.000/0000-00", "not a valid CNPJ"),
    ("12.ABC.345/01DE", "CPF (11 digits) or a CNPJ"),
    ("12.ABÇ.345/01DE-35", "only letters, digits"),
    ("12_ABC_345_01DE_35", "only letters, digits"),
])
def test_a_wrong_cnpj_is_refused_saying_why(cnpj, why):
    assert why in refused("BR", cnpj)


def test_a_cpf_with_the_right_check_digits_is_valid():
    tax_id = validate_tax_id("BR", "390.533.447-05")
    assert tax_id == TaxId("BR", "cpf", "39053344705")
    assert tax_id.formatted() == "390.533.447-05"


@pytest.mark.parametrize("cpf, why", [
    ("390.533.447-06", "check digits"),
    ("111.111.111-11", "check digits"),  # passes the arithmetic, never issued
    ("000.000.000-00", "check digits"),
    ("390.533.447-0", "CPF (11 digits) or a CNPJ"),
    ("390.533.447-0A", "CPF (11 digits) or a CNPJ"),
])
def test_a_wrong_cpf_is_refused_saying_why(cpf, why):
    assert why in refused("BR", cpf)


cnpj_bases = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=12, max_size=12).filter(
    lambda base: not base.startswith("000000000000"))


@settings(deadline=None)  # no timing: a loaded machine must not fail a correct example
@given(cnpj_bases)
def test_every_cnpj_base_with_the_receitas_check_digits_is_valid(base):
    number = base + receita_cnpj_check_digits(base)
    assert validate_tax_id("BR", number).value == number
    formatted = f"{number[:2]}.{number[2:5]}.{number[5:8]}/{number[8:12]}-{number[12:]}"
    assert validate_tax_id("BR", formatted.lower()).formatted() == formatted


@settings(deadline=None)  # no timing: a loaded machine must not fail a correct example
@given(cnpj_bases, st.integers(min_value=0, max_value=99))
def test_a_cnpj_with_any_other_check_digits_is_refused(base, digits):
    wrong = f"{digits:02d}"
    assume(wrong != receita_cnpj_check_digits(base))
    assert "check digits" in refused("BR", base + wrong)


@settings(deadline=None)  # no timing: a loaded machine must not fail a correct example
@given(st.text(alphabet="0123456789", min_size=9, max_size=9).filter(lambda base: len(set(base)) > 1),
       st.integers(min_value=0, max_value=99))
def test_a_cpf_is_valid_exactly_when_its_check_digits_are_right(base, digits):
    right = cpf_check_digits(base)
    assert validate_tax_id("BR", base + right).value == base + right
    wrong = f"{digits:02d}"
    assume(wrong != right)
    assert "check digits" in refused("BR", base + wrong)


# --- EU VAT numbers -----------------------------------------------------------------------

@pytest.mark.parametrize("country, typed, stored", [
    ("DE", "DE136695976", "DE136695976"),
    ("DE", "136 695 976", "DE136695976"),
    ("DE", "de136695976", "DE136695976"),
    ("FR", "FR 40 303 265 045", "FR40303265045"),
    ("NL", "NL004495445B01", "NL004495445B01"),
    ("BE", "0403.019.261", "BE0403019261"),
    ("ES", "ESA13585625", "ESA13585625"),
    ("IT", "IT00743110157", "IT00743110157"),
    ("AT", "ATU13585627", "ATU13585627"),
    ("PT", "501964843", "PT501964843"),
    ("IE", "IE6433435F", "IE6433435F"),
    ("GR", "EL094014201", "EL094014201"),
    ("GR", "GR094014201", "EL094014201"),
    ("GR", "094014201", "EL094014201"),
])
def test_an_eu_vat_number_is_accepted_with_or_without_its_prefix_and_stored_with_it(country, typed, stored):
    assert validate_tax_id(country, typed) == TaxId(country, "vat", stored)


@pytest.mark.parametrize("country, typed, why", [
    ("DE", "DE136695977", "check digits"),
    ("DE", "DE12345", "format"),
    ("NL", "NL004495445", "format"),
    ("DE", "FR40303265045", "another country"),
    ("FR", "DE136695976", "another country"),
    ("PT", "PT50196484", "format"),
    ("DE", "DE 136 695 976 #", "only letters, digits"),
])
def test_a_wrong_eu_vat_number_is_refused_saying_why(country, typed, why):
    assert why in refused(country, typed)


@settings(deadline=None)  # no timing: a loaded machine must not fail a correct example
@given(st.integers(min_value=2, max_value=10), st.integers(min_value=0, max_value=9))
def test_a_german_vat_number_with_one_digit_changed_is_refused(position, digit):
    # ISO 7064 MOD 11,10 catches every single-digit error.
    valid = "DE136695976"
    assume(valid[position] != str(digit))
    changed = valid[:position] + str(digit) + valid[position + 1:]
    with pytest.raises(InvalidArgument):
        validate_tax_id("DE", changed)


def test_every_eu_member_state_checks_its_vat_numbers():
    for country in sorted(EU_MEMBER_STATES):
        with pytest.raises(InvalidArgument):
            validate_tax_id(country, "1")


# --- elsewhere ------------------------------------------------------------------------------

@pytest.mark.parametrize("country, typed", [("US", "12-3456789"), ("CH", "CHE-123.456.789 MWST"),
                                            ("GB", "GB 123 4567 89"), ("JP", "T1234567890123")])
def test_elsewhere_a_tax_id_is_free_text_kept_as_typed(country, typed):
    assert validate_tax_id(country, f"  {typed} ") == TaxId(country, "other", typed)


@settings(deadline=None)  # no timing: a loaded machine must not fail a correct example
@given(st.text(min_size=1, max_size=40).filter(lambda s: s.strip() and s == s.strip()))
def test_elsewhere_any_text_within_the_limit_is_either_kept_or_refused_naming_the_field(text):
    try:
        tax_id = validate_tax_id("US", text)
    except InvalidArgument as error:
        assert error.field == "tax_id"
    else:
        assert tax_id.kind == "other"


@pytest.mark.parametrize("typed, why", [("1" * 41, "longer than 40"), ("12\x00345", "cannot be used"),
                                        ("12\u202e345", "cannot be used"), ("   ", "required")])
def test_elsewhere_a_tax_id_is_still_bounded_and_printable(typed, why):
    assert why in refused("US", typed)


@pytest.mark.parametrize("country", ["XX", "EU", "br", "", "BRA"])
def test_a_tax_id_of_no_country_is_refused_naming_the_country(country):
    with pytest.raises(InvalidArgument) as error:
        validate_tax_id(country, "123")
    assert error.value.field == "country"


def test_every_country_has_a_name_in_both_languages():
    assert len(COUNTRIES) == 249
    assert EU_MEMBER_STATES <= COUNTRIES
    for code in COUNTRIES:
        assert country_name(code, "en") != code
        assert country_name(code, "pt-BR") != code
    assert country_name("BR", "pt-BR") == "Brasil"
    assert country_name("DE", "en") == "Germany"
