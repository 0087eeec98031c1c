"""The SQL repositories against a real, migrated database (PostgreSQL with TEST_DATABASE_URL)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from billing_common.money import Money
from services.online_billing.adapters.unit_of_work import SqlOnlineBillingUnitOfWork
from services.online_billing.domain.model import BillingInterval, Plan, PlanPrice, SubscriptionStatus
from tests.unit.online_billing.factories import subscription

BUSINESS = Plan("business", "Business", min_seats=1, max_seats=300, rank=2)


def _catalogue(engine: Engine) -> None:
    """The migration wrote the catalogue; a plan that only has a USD price is added for the
    test of a price the catalogue lacks."""
    with SqlOnlineBillingUnitOfWork(engine) as uow:
        uow.plans.add(Plan("usd-only", "USD only"))
        uow.plans.add_price(PlanPrice("usd-only", BillingInterval.MONTHLY, Money(1600, "USD")))
        uow.commit()


def test_a_stored_subscription_reads_back_with_its_plan_name_price_and_utc_period(engine: Engine) -> None:
    _catalogue(engine)
    stored = subscription("acct-a", seats=7, unit_minor=1600, plan=BUSINESS)
    with SqlOnlineBillingUnitOfWork(engine) as uow:
        uow.subscriptions.add(stored)
        uow.commit()
    with SqlOnlineBillingUnitOfWork(engine) as uow:
        [loaded] = uow.subscriptions.for_account("acct-a")
    assert loaded == stored
    assert loaded.current_period_end.tzinfo is not None
    assert loaded.renewal_amount() == Money(11_200, "USD")


def test_the_price_is_the_one_for_the_subscriptions_currency_and_interval(engine: Engine) -> None:
    _catalogue(engine)
    brl = subscription("acct-b", seats=2, unit_minor=79_900, currency="BRL", interval=BillingInterval.ANNUAL,
                       plan=BUSINESS)
    with SqlOnlineBillingUnitOfWork(engine) as uow:
        uow.subscriptions.add(brl)
        uow.commit()
    with SqlOnlineBillingUnitOfWork(engine) as uow:
        assert uow.subscriptions.for_account("acct-b")[0].renewal_amount() == Money(159_800, "BRL")


def test_an_account_reads_only_its_own_subscriptions(engine: Engine) -> None:
    _catalogue(engine)
    with SqlOnlineBillingUnitOfWork(engine) as uow:
        uow.subscriptions.add(subscription("acct-a", plan=BUSINESS))
        uow.subscriptions.add(subscription("acct-a", plan=BUSINESS, status=SubscriptionStatus.CANCELED))
        uow.subscriptions.add(subscription("acct-c", plan=BUSINESS))
        uow.commit()
    with SqlOnlineBillingUnitOfWork(engine) as uow:
        assert {s.account_id for s in uow.subscriptions.for_account("acct-a")} == {"acct-a"}
        assert len(uow.subscriptions.for_account("acct-a")) == 2
        assert uow.subscriptions.for_account("nobody") == []


def test_a_subscription_on_a_price_the_catalogue_lacks_is_refused_by_the_database(engine: Engine) -> None:
    _catalogue(engine)
    with pytest.raises(IntegrityError), SqlOnlineBillingUnitOfWork(engine) as uow:
        uow.subscriptions.add(subscription("acct-a", currency="EUR", plan=Plan("usd-only", "USD only")))
        uow.commit()


def test_leaving_the_unit_of_work_without_commit_writes_nothing(engine: Engine) -> None:
    _catalogue(engine)
    with SqlOnlineBillingUnitOfWork(engine) as uow:
        uow.subscriptions.add(subscription("acct-a", plan=BUSINESS))
    with SqlOnlineBillingUnitOfWork(engine) as uow:
        assert uow.subscriptions.for_account("acct-a") == []


def test_datetimes_in_other_zones_are_stored_as_the_same_instant(engine: Engine) -> None:
    _catalogue(engine)
    sao_paulo = dt.timezone(dt.timedelta(hours=-3))
    start = dt.datetime(2026, 5, 1, 9, tzinfo=sao_paulo)
    with SqlOnlineBillingUnitOfWork(engine) as uow:
        uow.subscriptions.add(subscription("acct-tz", plan=BUSINESS, start=start))
        uow.commit()
    with SqlOnlineBillingUnitOfWork(engine) as uow:
        [loaded] = uow.subscriptions.for_account("acct-tz")
    assert loaded.current_period_start == start
