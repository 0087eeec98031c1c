"""The list prices a rep starts a quote's plan lines from (plain Python).

Enterprise keeps its own price list rather than asking online_billing's catalogue: online
plans are self-serve prices per seat and month in the Billing Center's currencies, while an
enterprise quote sells annual seats at list prices the rep then discounts line by line
(README, "Decision: quotes price from enterprise's own list"). A quote line keeps the plan's
code, the description and the unit price as quoted, so changing this list never changes a
quote already written.
"""
from __future__ import annotations

from dataclasses import dataclass

from billing_common.money import Money


@dataclass(frozen=True, slots=True)
class ListedPlan:
    code: str
    name: str  # English; the portal translates it by code
    unit: str  # what one quantity is
    prices: tuple[Money, ...]  # one per currency

    def price_in(self, currency: str) -> Money | None:
        return next((p for p in self.prices if p.currency == currency), None)


PRICE_LIST: tuple[ListedPlan, ...] = (
    ListedPlan("enterprise-annual", "Enterprise, annual", "seat-year",
               (Money(26_400, "USD"), Money(132_000, "BRL"), Money(24_000, "EUR"))),
    ListedPlan("enterprise-plus-annual", "Enterprise Plus, annual", "seat-year",
               (Money(39_600, "USD"), Money(198_000, "BRL"), Money(36_000, "EUR"))),
    ListedPlan("webinar-addon-annual", "Webinar add-on, annual", "host-year",
               (Money(60_000, "USD"), Money(300_000, "BRL"), Money(55_000, "EUR"))),
    ListedPlan("premium-support-annual", "Premium support, annual", "account-year",
               (Money(1_200_000, "USD"), Money(6_000_000, "BRL"), Money(1_100_000, "EUR"))),
)


def listed_plan(code: str) -> ListedPlan | None:
    return next((p for p in PRICE_LIST if p.code == code), None)
