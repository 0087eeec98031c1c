"""Domain objects for tests, with unique ids."""
from __future__ import annotations

import datetime as dt
import uuid

from billing_common.money import Money
from services.online_billing.domain.model import BillingInterval, Plan, Subscription, SubscriptionStatus

START = dt.datetime(2026, 1, 31, tzinfo=dt.UTC)
BUSINESS = Plan("business", "Business")  # frozen: safe to share as a default


def subscription(
    account_id: str = "acct-1",
    *,
    seats: int = 10,
    unit_minor: int = 1600,
    currency: str = "USD",
    interval: BillingInterval = BillingInterval.MONTHLY,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    start: dt.datetime = START,
    plan: Plan = BUSINESS,
) -> Subscription:
    return Subscription(
        id=str(uuid.uuid4()),
        account_id=account_id,
        plan=plan,
        seats=seats,
        interval=interval,
        status=status,
        unit_price=Money(unit_minor, currency),
        current_period_start=start,
        current_period_end=interval.period_end(start),
    )
