"""Lines of quotes and enterprise invoices (plain Python).

One line type serves both, so the invoice a quote's acceptance creates carries the very
lines the customer accepted. A line is a plan of the catalogue or a custom item, a whole
quantity at a unit price, less a discount given in basis points (1500 = 15%) of the line's
gross amount: reps negotiate percentages, and an integer keeps the arithmetic exact. The
discount is rounded once per line, half to even (Money.prorate); the amount is the gross less
that discount, so a line's amount, discount and gross always agree to the minor unit.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from billing_common.errors import InvalidArgument
from billing_common.money import Money

FULL = 10_000  # basis points in 100%
MAX_QUANTITY = 1_000_000
MAX_DESCRIPTION = 200


def whole_between(value: object, low: int, high: int) -> bool:
    """An int (not a bool) from low to high."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


class LineKind(StrEnum):
    PLAN = "plan"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class Line:
    kind: LineKind
    description: str
    quantity: int
    unit_price: Money
    discount_bp: int = 0
    plan_code: str | None = None  # the catalogue's code, on plan lines only

    def __post_init__(self) -> None:
        if not isinstance(self.description, str) or not self.description.strip():
            raise InvalidArgument("a line needs a description", field="description")
        if len(self.description) > MAX_DESCRIPTION:
            raise InvalidArgument(f"a line's description is at most {MAX_DESCRIPTION} characters", field="description")
        if not whole_between(self.quantity, 1, MAX_QUANTITY):
            raise InvalidArgument(f"quantity is a whole number from 1 to {MAX_QUANTITY}", field="quantity")
        if self.unit_price.amount_minor < 0:
            raise InvalidArgument("a unit price cannot be negative", field="unit_price")
        if not whole_between(self.discount_bp, 0, FULL):
            raise InvalidArgument("a discount is 0 to 10000 basis points (0% to 100%)", field="discount")
        if (self.kind is LineKind.PLAN) != bool(self.plan_code):
            raise InvalidArgument("a plan line names its plan, and only a plan line does", field="plan_code")

    @property
    def currency(self) -> str:
        return self.unit_price.currency

    @property
    def gross(self) -> Money:
        return self.unit_price * self.quantity

    @property
    def discount(self) -> Money:
        return self.gross.prorate(self.discount_bp, FULL)

    @property
    def amount(self) -> Money:
        return self.gross - self.discount


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Money  # the lines' gross amounts
    discount: Money
    total: Money  # subtotal - discount = the lines' amounts


def totals(lines: Sequence[Line], currency: str) -> Totals:
    """The totals of `lines`, all in `currency` (a line in another one is refused)."""
    for line in lines:
        if line.currency != currency:
            raise InvalidArgument(f"every line is in {currency}", field="unit_price")
    zero = Money.zero(currency)
    subtotal = sum((line.gross for line in lines), zero)
    discount = sum((line.discount for line in lines), zero)
    return Totals(subtotal=subtotal, discount=discount, total=subtotal - discount)
