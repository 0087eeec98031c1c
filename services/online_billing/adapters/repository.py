"""SQL repositories: rows of adapters.orm in, domain objects out."""
from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from sqlalchemy import Connection, insert, select

from billing_common.money import Money
from services.online_billing.adapters import orm
from services.online_billing.domain.model import (
    BillingInterval,
    Plan,
    PlanPrice,
    Subscription,
    SubscriptionStatus,
)


class PlanRepository(Protocol):
    def add(self, plan: Plan) -> None: ...
    def add_price(self, price: PlanPrice) -> None: ...
    def get(self, code: str) -> Plan | None: ...
    def price(self, plan_code: str, currency: str, interval: BillingInterval) -> PlanPrice | None: ...


class SubscriptionRepository(Protocol):
    def add(self, subscription: Subscription) -> None: ...
    def for_account(self, account_id: str) -> list[Subscription]: ...


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

    def get(self, code: str) -> Plan | None:
        row = self.connection.execute(select(orm.plans).where(orm.plans.c.code == code)).first()
        return Plan(code=row.code, name=row.name) if row else None

    def price(self, plan_code: str, currency: str, interval: BillingInterval) -> PlanPrice | None:
        p = orm.plan_prices
        row = self.connection.execute(
            select(p).where(p.c.plan_code == plan_code, p.c.currency == currency, p.c.interval == interval.value)
        ).first()
        if row is None:
            return None
        return PlanPrice(plan_code, interval, Money(int(row.unit_amount_minor), row.currency))


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
                current_period_start=_utc(s.current_period_start),
                current_period_end=_utc(s.current_period_end),
                cancel_at_period_end=s.cancel_at_period_end,
            )
        )

    def for_account(self, account_id: str) -> list[Subscription]:
        s, p, pp = orm.subscriptions, orm.plans, orm.plan_prices
        query = (
            select(s, p.c.name.label("plan_name"), pp.c.unit_amount_minor)
            .join(p, p.c.code == s.c.plan_code)
            .join(pp, (pp.c.plan_code == s.c.plan_code) & (pp.c.currency == s.c.currency)
                  & (pp.c.interval == s.c.interval))
            .where(s.c.account_id == account_id)
            .order_by(s.c.current_period_end, s.c.id)
        )
        return [_subscription(row) for row in self.connection.execute(query)]


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        account_id=row.account_id,
        plan=Plan(code=row.plan_code, name=row.plan_name),
        seats=row.seats,
        interval=BillingInterval(row.interval),
        status=SubscriptionStatus(row.status),
        unit_price=Money(int(row.unit_amount_minor), row.currency),
        current_period_start=_aware(row.current_period_start),
        current_period_end=_aware(row.current_period_end),
        cancel_at_period_end=bool(row.cancel_at_period_end),
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    """Stored as UTC: SQLite keeps no offset, so another zone's wall time would be misread."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware one")
    return moment.astimezone(dt.timezone.utc)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)
