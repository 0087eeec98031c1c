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
    """What is stored. "Pending cancellation" is ACTIVE with cancel_at_period_end (see
    Subscription.display_status), so the renewal run needs no second kind of live status."""

    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"


class DisplayStatus(StrEnum):
    """What a person is shown: the four states of the subscription page."""

    ACTIVE = "active"
    PENDING_CANCELLATION = "pending_cancellation"
    PAST_DUE = "past_due"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class Selection:
    """What a subscription is on, or asked to be on: a plan, a number of seats, an interval."""

    plan_code: str
    seats: int
    interval: BillingInterval


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """Calendar months later; the 31st becomes the last day of a shorter month."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True, slots=True)
class Plan:
    """A tier of the meeting product. `rank` orders the tiers (higher is more); seats are
    bought between `min_seats` and `max_seats` (both included)."""

    code: str
    name: str
    min_seats: int = 1
    max_seats: int = 1000
    rank: int = 0


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
class Dunning:
    """A past-due subscription's retries of its renewal invoice (domain.renewals)."""

    invoice_id: str  # the open renewal invoice every retry charges
    failed_at: dt.datetime  # the first failed charge: the retries are counted in days from it
    retries: int  # scheduled retries made so far
    next_retry_at: dt.datetime | None
    decline_code: str  # the last decline's code (or "no_payment_method")


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
    # A downgrade, fewer seats or annual -> monthly, taking effect at current_period_end (the
    # renewal applies it); None when nothing is scheduled.
    scheduled_change: Selection | None = None
    cancel_reason: str = ""
    canceled_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    # Set while past due (the retries of the renewal invoice), None otherwise.
    dunning: Dunning | None = None
    # The billing run's renewal charge under way (stored, not settled yet): the run claims only
    # subscriptions without one, so two workers never charge the same renewal.
    renewal_payment_id: str | None = None

    def __post_init__(self) -> None:
        if self.seats < 1:
            raise ValueError("a subscription has at least one seat")
        if self.current_period_end <= self.current_period_start:
            raise ValueError("a period ends after it starts")

    @property
    def currency(self) -> str:
        return self.unit_price.currency

    @property
    def selection(self) -> Selection:
        return Selection(self.plan.code, self.seats, self.interval)

    def has_lapsed(self, now: dt.datetime) -> bool:
        """Canceled, or set to cancel at a period end that has passed (until the renewal run
        marks it canceled, it reads as canceled all the same)."""
        return self.status is SubscriptionStatus.CANCELED or (
            self.cancel_at_period_end and now >= self.current_period_end)

    def display_status(self, now: dt.datetime) -> DisplayStatus:
        if self.has_lapsed(now):
            return DisplayStatus.CANCELED
        if self.status is SubscriptionStatus.PAST_DUE:
            return DisplayStatus.PAST_DUE
        if self.cancel_at_period_end:
            return DisplayStatus.PENDING_CANCELLATION
        return DisplayStatus.ACTIVE

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
