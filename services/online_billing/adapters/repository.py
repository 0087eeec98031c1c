"""SQL repositories: rows of adapters.orm in, domain objects out."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from billing_common.db import aware_utc, to_utc
from billing_common.money import Money
from services.online_billing.adapters import orm
from services.online_billing.domain.model import (
    BillingInterval,
    Plan,
    PlanPrice,
    Subscription,
    SubscriptionStatus,
)


class SqlPlanRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, plan: Plan) -> None:
        self.connection.execute(insert(orm.plans).values(code=plan.code, name=plan.name))

    def add_price(self, price: PlanPrice) -> None:
        self.connection.execute(
            insert(orm.plan_prices).values(
                plan_code=price.plan_code,
                currency=price.unit_price.currency,
                interval=price.interval.value,
                unit_amount_minor=price.unit_price.amount_minor,
            )
        )

class SqlSubscriptionRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, subscription: Subscription) -> None:
        s = subscription
        self.connection.execute(
            insert(orm.subscriptions).values(
                id=s.id,
                account_id=s.account_id,
                plan_code=s.plan.code,
                seats=s.seats,
                interval=s.interval.value,
                status=s.status.value,
                currency=s.currency,
                current_period_start=to_utc(s.current_period_start),
                current_period_end=to_utc(s.current_period_end),
                cancel_at_period_end=s.cancel_at_period_end,
            )
        )

    def for_account(self, account_id: str) -> list[Subscription]:
        return [_subscription(row) for row in self.connection.execute(_FOR_ACCOUNT, {"account_id": account_id})]


# Built once: it runs on every Billing Center landing page, and building a statement costs
# more than executing it (about 60 microseconds here).
_s, _p, _pp = orm.subscriptions, orm.plans, orm.plan_prices
_FOR_ACCOUNT = (
    select(_s, _p.c.name.label("plan_name"), _pp.c.unit_amount_minor)
    .join(_p, _p.c.code == _s.c.plan_code)
    .join(_pp, (_pp.c.plan_code == _s.c.plan_code) & (_pp.c.currency == _s.c.currency)
          & (_pp.c.interval == _s.c.interval))
    .where(_s.c.account_id == bindparam("account_id"))
    .order_by(_s.c.current_period_end, _s.c.id)
)


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        account_id=row.account_id,
        plan=Plan(code=row.plan_code, name=row.plan_name),
        seats=row.seats,
        interval=BillingInterval(row.interval),
        status=SubscriptionStatus(row.status),
        unit_price=Money(int(row.unit_amount_minor), row.currency),
        current_period_start=aware_utc(row.current_period_start),
        current_period_end=aware_utc(row.current_period_end),
        cancel_at_period_end=bool(row.cancel_at_period_end),
    )
