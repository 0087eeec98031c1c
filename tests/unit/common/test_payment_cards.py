"""Card form checks made before any gateway call, and the Luhn scan used to prove S18."""
import datetime as dt

import pytest

from billing_common.payments import messages
from billing_common.payments.cards import CardProblem, brand_of, card_numbers_in, card_problems, passes_luhn

TODAY = dt.date(2027, 5, 10)


def problems(number="4242424242424242", month=12, year=2030, cvc="123", holder="Olivia Souza"):
    return card_problems(number, month, year, cvc, holder, TODAY)


def test_a_well_formed_card_has_no_problem_and_spaces_or_dashes_in_the_number_are_fine():
    assert problems() == []
    assert problems("4242 4242 4242 4242") == []
    assert problems("4242-4242-4242-4242") == []


@pytest.mark.parametrize("number", ["4242424242424241", "1234567812345678", "4242", "4242x42424242424",
                                    "42424242424242424242", "", "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", "４２４２４２４２４２４２４２４２"])
def test_a_number_that_fails_the_luhn_check_or_has_no_card_shape_is_invalid(number):
    assert problems(number) == [CardProblem("number", messages.INVALID_NUMBER)]


def test_an_expiry_last_year_names_the_year_and_earlier_this_year_names_the_month():
    assert problems(month=12, year=2026) == [CardProblem("exp_year", messages.EXPIRY_IN_PAST)]
    assert problems(month=4, year=2027) == [CardProblem("exp_month", messages.EXPIRY_IN_PAST)]
    assert problems(month=5, year=2027) == []  # good through the end of its month


@pytest.mark.parametrize("month, year, field, code", [
    (0, 2030, "exp_month", messages.INVALID_EXPIRY_MONTH),
    (13, 2030, "exp_month", messages.INVALID_EXPIRY_MONTH),
    ("12", 2030, "exp_month", messages.INVALID_EXPIRY_MONTH),
    (12, 30, "exp_year", messages.INVALID_EXPIRY_YEAR),
    (12, 2090, "exp_year", messages.INVALID_EXPIRY_YEAR),
    (12, True, "exp_year", messages.INVALID_EXPIRY_YEAR),
])
def test_a_month_or_year_that_cannot_be_an_expiry_names_its_field(month, year, field, code):
    assert problems(month=month, year=year) == [CardProblem(field, code)]


@pytest.mark.parametrize("number, cvc, ok", [
    ("4242424242424242", "123", True),
    ("4242424242424242", "1234", False),
    ("4242424242424242", "12", False),
    ("4242424242424242", "12a", False),
    ("4242424242424242", "١٢٣", False),
    ("5555555555554444", "999", True),
    ("378282246310005", "1234", True),
    ("378282246310005", "123", False),
])
def test_the_cvc_has_3_digits_and_4_for_american_express(number, cvc, ok):
    assert (problems(number, cvc=cvc) == []) is ok
    if not ok:
        assert problems(number, cvc=cvc) == [CardProblem("cvc", messages.INVALID_CVC)]


def test_the_holder_name_is_required_bounded_and_printable():
    assert problems(holder="  ") == [CardProblem("holder_name", messages.HOLDER_NAME_REQUIRED)]
    assert problems(holder="x" * 101) == [CardProblem("holder_name", messages.INVALID_HOLDER_NAME)]
    assert problems(holder="Olivia\x00") == [CardProblem("holder_name", messages.INVALID_HOLDER_NAME)]
    assert problems(holder="João da Silva") == []


def test_every_problem_of_a_form_is_listed_in_the_forms_order():
    assert [p.field for p in problems("1", 13, 2030, "", "")] == ["number", "exp_month", "cvc", "holder_name"]


def test_brands_come_from_the_first_digits():
    assert brand_of("4242424242424242") == "visa"
    assert brand_of("5555555555554444") == "mastercard"
    assert brand_of("2223003122003222") == "mastercard"
    assert brand_of("378282246310005") == "amex"
    assert brand_of("6011111111111117") == "discover"
    assert brand_of("3566002020360505") == "jcb"
    assert brand_of("9999999999999995") == "unknown"


def test_the_scan_finds_card_numbers_however_they_are_written_and_only_those():
    text = "paid with 4242 4242 4242 4242, then 5555-5555-5555-4444 and 378282246310005 ok"
    assert card_numbers_in(text) == ["4242424242424242", "5555555555554444", "378282246310005"]
    # Not Luhn-valid, too short, or a timestamp: nothing.
    assert card_numbers_in("4242424242424241 1800000000 2027-05-10T10:00:00 amount=1999") == []
    assert passes_luhn("4000000000000408")


def test_the_scan_reads_numbers_between_punctuation_but_not_digit_runs_inside_hex_ids():
    assert card_numbers_in('{"number":"4242424242424242"} card=5555555555554444;') == [
        "4242424242424242", "5555555555554444"]
    # A sha256 digest holding a Luhn-valid run of 19 digits, seen in a stored request hash.
    assert card_numbers_in("9f2c0786107923417212692ab41c") == []


def test_a_scan_clean_uuid_draws_again_when_a_uuid_holds_a_card_number(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import uuid

    from billing_common.payments import cards

    flagged = uuid.UUID("78587589-1120-4148-9e26-b0d35fc2a142")
    clean = uuid.UUID("0b6f2c1e-7a3d-4e5f-8a9b-c0d1e2f3a4b5")
    drawn = iter([flagged, clean])
    monkeypatch.setattr(cards.uuid, "uuid4", lambda: next(drawn))
    assert cards.card_numbers_in(str(flagged)) and cards.scan_clean_uuid() == str(clean)
