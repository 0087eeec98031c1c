"""The plan catalogue: tiers of the meeting product and their per-seat prices (plain Python).

Prices are explicit integers in each currency's minor unit, set per currency (never converted
at an exchange rate): a price in reais is a price a Brazilian buyer recognises, not 1,617.43.
Annual prices are ten months' worth (two months free).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from billing_common.errors import InvalidArgument
from billing_common.money import Money
from services.online_billing.domain.model import BillingInterval, Plan, PlanPrice, Selection

# The gateways' ceiling for one charge (billing_common.payments.gateway.MAX_AMOUNT_MINOR, Stripe's);
# seat maxima are set so that no selection's price exceeds it.
MAX_CHARGE_MINOR = 99_999_999

# The price list the service launched with: migration 0003 writes it. Frozen: a new price is a new
# constant and a new migration, since subscriptions point at the prices' rows.
LAUNCH_PLANS: tuple[Plan, ...] = (
    Plan("starter", "Starter", min_seats=1, max_seats=25, rank=1),
    Plan("business", "Business", min_seats=1, max_seats=300, rank=2),
    Plan("enterprise", "Enterprise", min_seats=5, max_seats=800, rank=3),
)
# (plan, currency) -> (monthly, annual) per seat, minor units.
LAUNCH_PRICES: dict[tuple[str, str], tuple[int, int]] = {
    ("starter", "USD"): (600, 6_000),
    ("starter", "EUR"): (550, 5_500),
    ("starter", "BRL"): (5_990, 59_900),
    ("business", "USD"): (1_600, 16_000),
    ("business", "EUR"): (1_500, 15_000),
    ("business", "BRL"): (7_990, 79_900),
    ("enterprise", "USD"): (2_400, 24_000),
    ("enterprise", "EUR"): (2_200, 22_000),
    ("enterprise", "BRL"): (11_990, 119_900),
}


def launch_prices() -> list[PlanPrice]:
    return [
        PlanPrice(code, interval, Money(amount, currency))
        for (code, currency), amounts in LAUNCH_PRICES.items()
        for interval, amount in zip((BillingInterval.MONTHLY, BillingInterval.ANNUAL), amounts, strict=True)
    ]


@dataclass(frozen=True)
class Catalogue:
    """The plans and their prices as the database holds them now."""

    plans: tuple[Plan, ...]
    prices: dict[tuple[str, str, BillingInterval], Money] = field(default_factory=dict)

    @classmethod
    def of(cls, plans: Iterable[Plan], prices: Iterable[PlanPrice]) -> Catalogue:
        return cls(tuple(sorted(plans, key=lambda p: (p.rank, p.code))),
                   {(p.plan_code, p.unit_price.currency, p.interval): p.unit_price for p in prices})

    def plan(self, code: str) -> Plan:
        for plan in self.plans:
            if plan.code == code:
                return plan
        raise InvalidArgument("plan_code is not a plan of the catalogue", field="plan_code")

    def unit_price(self, code: str, currency: str, interval: BillingInterval) -> Money:
        price = self.prices.get((code, currency, interval))
        if price is None:
            raise InvalidArgument(f"this plan has no {interval.value} price in {currency}", field="plan_code")
        return price

    def check(self, selection: Selection, currency: str) -> Plan:
        """The selection's plan, when the selection can be bought in `currency`; else
        InvalidArgument naming the field at fault."""
        plan = self.plan(selection.plan_code)
        if not plan.min_seats <= selection.seats <= plan.max_seats:
            raise InvalidArgument(f"seats must be between {plan.min_seats} and {plan.max_seats} on {plan.name}",
                                  field="seats")
        if self.amount(selection, currency).amount_minor > MAX_CHARGE_MINOR:
            raise InvalidArgument("that many seats cannot be charged online; contact sales", field="seats")
        return plan

    def amount(self, selection: Selection, currency: str) -> Money:
        """What one period of `selection` costs: the per-seat price x seats."""
        return self.unit_price(selection.plan_code, currency, selection.interval) * selection.seats

    def in_currency(self, currency: str) -> list[tuple[Plan, dict[BillingInterval, Money]]]:
        """The plans sold in `currency`, lowest tier first, with their per-seat prices."""
        listed = []
        for plan in self.plans:
            prices = {i: p for (code, cur, i), p in self.prices.items() if code == plan.code and cur == currency}
            if prices:
                listed.append((plan, prices))
        return listed
