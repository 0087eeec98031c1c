"""Money as integers in the currency's minor unit with an ISO 4217 code (S21).

Arithmetic that needs fractions goes through Decimal with banker's rounding; splitting an
amount hands the remainder out a minor unit at a time, so nothing is lost or created.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from babel.numbers import format_currency, get_currency_precision, list_currencies

_KNOWN = frozenset(list_currencies())


def is_currency(code: str) -> bool:
    """An ISO 4217 code Babel knows (and so can format)."""
    return code in _KNOWN


def minor_digits(currency: str) -> int:
    return get_currency_precision(currency)


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

    def allocate(self, weights: list[int]) -> list[Money]:
        """Split by integer weights; the parts always add up to self exactly."""
        if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
            raise ValueError("weights must be non-negative with a positive sum")
        total = sum(weights)
        sign = -1 if self.amount_minor < 0 else 1
        amount = abs(self.amount_minor)
        parts = [amount * w // total for w in weights]
        # Largest remainders first, ties to the earlier part: deterministic and fair.
        order = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
        for i in order[: amount - sum(parts)]:
            parts[i] += 1
        return [Money(sign * p, self.currency) for p in parts]

    def prorate(self, numerator: int, denominator: int) -> Money:
        """self x numerator / denominator, banker's rounding (e.g. unused days of a period)."""
        if denominator <= 0 or numerator < 0:
            raise ValueError("prorate needs 0 <= numerator and a positive denominator")
        q = (Decimal(self.amount_minor) * numerator / denominator).quantize(
            Decimal(1), rounding=ROUND_HALF_EVEN
        )
        return Money(int(q), self.currency)

    def format(self, locale: str) -> str:
        """For people: '$1,234.50' in en, 'R$ 1.234,50' in pt_BR."""
        return format_currency(self.to_decimal(), self.currency, locale=locale.replace("-", "_"))
