"""Plans, prices and subscriptions of online accounts (plain Python; no I/O).

Money is billing_common.money.Money: integers in the currency's minor unit.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from billing_common.money import Money


class BillingInterval(StrEnum):
    MONTHLY = "monthly"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return 1 if self is BillingInterval.MONTHLY else 12

    def period_end(self, start: dt.datetime) -> dt.datetime:
        """Where a period that starts at `start` ends (the next period's start)."""
        return add_months(start, self.months)


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """Calendar months later; the 31st becomes the last day of a shorter month."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True, slots=True)
class Plan:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PlanPrice:
    """What one seat of a plan costs for one interval, in one currency."""

    plan_code: str
    interval: BillingInterval
    unit_price: Money

    def __post_init__(self) -> None:
        if self.unit_price.amount_minor < 0:
            raise ValueError("a price cannot be negative")


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    account_id: str
    plan: Plan
    seats: int
    interval: BillingInterval
    status: SubscriptionStatus
    # The per-seat price of (plan, currency, interval), read with the subscription so the
    # renewal amount is always what the catalogue says today.
    unit_price: Money
    current_period_start: dt.datetime
    current_period_end: dt.datetime
    cancel_at_period_end: bool = False

    def __post_init__(self) -> None:
        if self.seats < 1:
            raise ValueError("a subscription has at least one seat")
        if self.current_period_end <= self.current_period_start:
            raise ValueError("a period ends after it starts")

    @property
    def currency(self) -> str:
        return self.unit_price.currency

    def renewal_amount(self) -> Money:
        """What the next renewal charges: the plan's per-seat price x seats."""
        return self.unit_price * self.seats


def current_subscription(subscriptions: Iterable[Subscription]) -> Subscription | None:
    """The subscription a landing page shows: a live one before a canceled one, then the
    one whose period ends last (an account keeps its canceled history)."""
    return max(
        subscriptions,
        key=lambda s: (s.status is not SubscriptionStatus.CANCELED, s.current_period_end, s.id),
        default=None,
    )
