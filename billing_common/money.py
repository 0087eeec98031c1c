"""Money as integers in the currency's minor unit with an ISO 4217 code (S21).

Arithmetic that needs fractions rounds with banker's rounding (half to even). Splitting an
amount, or prorating it over parts of a period, rounds *cumulatively*: the part for units
[start, end) of a whole of `total` units is

    round(amount x end / total) - round(amount x start / total)

with each boundary rounded half to even. The parts of one amount telescope, so they always add
up to it exactly, whatever the cuts; a part depends only on its own two ends (a plan change
prorated today and another next week agree with each other and with the period's price); each
part is within one minor unit of its exact share (less than one unless both ends fall exactly on
a half); zero weight gets zero; and a negative amount splits as the mirror of the positive one.
The arithmetic is on integers: exact at any size, where Decimal's 28 digits could round a value
near a half before the half-to-even rule sees it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from babel.numbers import format_currency, get_currency_precision, list_currencies

_KNOWN = frozenset(list_currencies())


def is_currency(code: str) -> bool:
    """An ISO 4217 code Babel knows (and so can format)."""
    return code in _KNOWN


def minor_digits(currency: str) -> int:
    return get_currency_precision(currency)


def round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, halves to the even one (banker's
    rounding), exactly: no float or Decimal in between. `denominator` must be positive."""
    quotient, remainder = divmod(numerator, denominator)  # 0 <= remainder < denominator
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise TypeError("amount_minor must be an int")
        if self.currency not in _KNOWN:
            raise ValueError(f"unknown currency {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, amount: Decimal | str, currency: str) -> Money:
        """Major units (e.g. Decimal("12.34")) to minor units, banker's rounding."""
        scale = Decimal(10) ** minor_digits(currency)
        minor = (Decimal(amount) * scale).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        return cls(int(minor), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-minor_digits(self.currency))

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("money is multiplied by whole numbers only; use allocate()")
        return Money(self.amount_minor * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split by non-negative integer weights (zeros allowed, positive sum), rounding
        cumulatively (see the module's docstring): the parts always add up to self exactly,
        and part i is what prorate_between gives for the units of weight i. 5 in halves is
        2 + 3 (2.5 rounds to 2, and 5 - 2 is left for the second half)."""
        if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
            raise ValueError("weights must be non-negative with a positive sum")
        total = sum(weights)
        parts, cumulative, previous = [], 0, 0
        for weight in weights:
            cumulative += weight
            boundary = round_half_even(self.amount_minor * cumulative, total)
            parts.append(Money(boundary - previous, self.currency))
            previous = boundary
        return parts

    def prorate(self, numerator: int, denominator: int) -> Money:
        """The share of the first `numerator` of `denominator` units (e.g. the seconds of a
        period already used): self x numerator / denominator, banker's rounding.

        Its complement, the rest of the period, is `prorate_between(numerator, denominator,
        denominator)`, never `prorate(denominator - numerator, denominator)`: rounded on its own,
        each half of 5 would be 2. The two always add up to self."""
        if denominator <= 0 or numerator < 0:
            raise ValueError("prorate needs 0 <= numerator and a positive denominator")
        return Money(round_half_even(self.amount_minor * numerator, denominator), self.currency)

    def prorate_between(self, start: int, end: int, period: int) -> Money:
        """The share of units [start, end) of a period of `period` units (e.g. seconds from a
        plan change to the end of the period), rounded cumulatively: the spans of any cuts of
        one period add up to self exactly, and each agrees with `prorate` and `allocate`."""
        if not 0 <= start <= end <= period or period <= 0:
            raise ValueError("prorate_between needs 0 <= start <= end <= period and a positive period")
        amount = self.amount_minor
        return Money(round_half_even(amount * end, period) - round_half_even(amount * start, period), self.currency)

    def format(self, locale: str) -> str:
        """For people: '$1,234.50' in en, 'R$ 1.234,50' in pt_BR."""
        return format_currency(self.to_decimal(), self.currency, locale=locale.replace("-", "_"))
