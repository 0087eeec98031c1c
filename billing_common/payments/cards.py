"""Checks on what is typed into a card form, made before any gateway call, and the Luhn scan
that proves no card number is kept anywhere (S18).

Plain Python: the web tier runs these on the form (to show every field's problem at once) and
every tokenizer runs them again before it calls out.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from billing_common.limits import MAX_NAME, has_disallowed_characters
from billing_common.payments import messages

# Card numbers are 12 to 19 digits (ISO/IEC 7812), ASCII ones (\d would take any script's
# digits); people type them with spaces or dashes.
_SEPARATORS = re.compile(r"[ -]")
_NUMBER = re.compile(r"[0-9]{12,19}")
_CVC = re.compile(r"[0-9]{3,4}")
# A run of digits, single spaces or dashes between them allowed, as a card number is written,
# and not inside a longer word: hex digests and UUIDs hold long digit runs (a 64-digit hex hash
# has one of 13 or more about once in 100), a tenth of which pass the Luhn check by chance.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9](?:[ -]?[0-9]){11,}(?![0-9A-Za-z])")
# How far ahead an expiry date may be: cards are issued for at most a few years; 50 only stops
# nonsense.
MAX_YEARS_AHEAD = 50


@dataclass(frozen=True, slots=True)
class CardProblem:
    """One field of the card form and what is wrong with it (a code of messages.py)."""

    field: str
    code: str

    @property
    def message(self) -> str:
        return messages.message(self.code)


def digits_of(number: str) -> str:
    """The number as typed, without the spaces and dashes people put in it."""
    return _SEPARATORS.sub("", number)


def passes_luhn(digits: str) -> bool:
    """The Luhn (mod 10) check digit every card number carries."""
    if not (digits.isascii() and digits.isdigit()):  # "٤" is a digit to Python, not on a card
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def brand_of(digits: str) -> str:
    """The card network from the number's first digits (IIN ranges), "unknown" when none fits."""
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in ("34", "37"):
        return "amex"
    prefix4 = int(digits[:4]) if len(digits) >= 4 and digits[:4].isdigit() else 0
    if 51 <= prefix4 // 100 <= 55 or 2221 <= prefix4 <= 2720:
        return "mastercard"
    if digits.startswith(("6011", "65")) or 644 <= prefix4 // 10 <= 649:
        return "discover"
    if 3528 <= prefix4 <= 3589:
        return "jcb"
    if digits.startswith(("36", "38", "39")) or 300 <= prefix4 // 10 <= 305:
        return "diners"
    if digits.startswith("62"):
        return "unionpay"
    return "unknown"


def cvc_length(brand: str) -> int:
    """American Express prints 4 digits on the front; the others 3 on the back."""
    return 4 if brand == "amex" else 3


def card_problems(
    number: str, exp_month: int, exp_year: int, cvc: str, holder_name: str, today: dt.date
) -> list[CardProblem]:
    """Every problem of a card form, in the form's order; empty when the card may be sent."""
    problems: list[CardProblem] = []
    digits = digits_of(number) if isinstance(number, str) else ""
    if not _NUMBER.fullmatch(digits) or not passes_luhn(digits):
        problems.append(CardProblem("number", messages.INVALID_NUMBER))
        brand = "unknown"
    else:
        brand = brand_of(digits)
    problems.extend(_expiry_problems(exp_month, exp_year, today))
    if not isinstance(cvc, str) or not _CVC.fullmatch(cvc) or (
        brand != "unknown" and len(cvc) != cvc_length(brand)
    ):
        problems.append(CardProblem("cvc", messages.INVALID_CVC))
    if not isinstance(holder_name, str) or not holder_name.strip():
        problems.append(CardProblem("holder_name", messages.HOLDER_NAME_REQUIRED))
    elif len(holder_name) > MAX_NAME or has_disallowed_characters(holder_name):
        problems.append(CardProblem("holder_name", messages.INVALID_HOLDER_NAME))
    return problems


def _expiry_problems(exp_month: int, exp_year: int, today: dt.date) -> list[CardProblem]:
    month_ok = _is_int(exp_month) and 1 <= exp_month <= 12
    year_ok = _is_int(exp_year) and 2000 <= exp_year <= today.year + MAX_YEARS_AHEAD
    problems = []
    if not month_ok:
        problems.append(CardProblem("exp_month", messages.INVALID_EXPIRY_MONTH))
    if not year_ok:
        problems.append(CardProblem("exp_year", messages.INVALID_EXPIRY_YEAR))
    if problems:
        return problems
    if exp_year < today.year:
        return [CardProblem("exp_year", messages.EXPIRY_IN_PAST)]
    if is_expired(exp_month, exp_year, today):
        return [CardProblem("exp_month", messages.EXPIRY_IN_PAST)]
    return []


def is_expired(exp_month: int, exp_year: int, today: dt.date) -> bool:
    """A card is good through the last day of its expiry month."""
    return (exp_year, exp_month) < (today.year, today.month)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def card_numbers_in(text: str) -> list[str]:
    """Every run of 13 to 19 digits in `text` (spaces or dashes between them allowed) that passes
    the Luhn check: what a scan for stored or logged card numbers reports (S18)."""
    found = []
    for match in _DIGIT_RUN.finditer(text):
        digits = digits_of(match.group())
        if 13 <= len(digits) <= 19 and passes_luhn(digits):
            found.append(digits)
    return found


def scan_clean_uuid() -> str:
    """A random UUID (text) in which no card-number scan finds a card number. About one UUID in
    5,000 holds a Luhn-valid run of 13 to 19 digits across its dashes, which a gateway refuses
    in a charge's metadata and a scan of logs reports: ids sent to the gateway are drawn again."""
    while card_numbers_in(text := str(uuid.uuid4())):
        pass
    return text
