"""Migrations reach the ORM's schema; the demo loader writes once, only into an empty database."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select

from billing_common.clock import FakeClock
from billing_common.db import make_engine
from billing_common.money import Money
from services.devstack import demo_backends
from services.online_billing import bootstrap
from services.online_billing.__main__ import main as service_main
from services.online_billing.adapters.orm import metadata, plans
from services.online_billing.adapters.unit_of_work import SqlOnlineBillingUnitOfWork
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.domain.model import BillingInterval, SubscriptionStatus

NOV_26_2026 = 1_795_700_000.0  # 2026-11-26 UTC


def test_migrations_bring_an_empty_database_to_exactly_the_orm_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": bootstrap.VERSION_TABLE}
        )
        assert context.get_current_revision() is not None
        assert compare_metadata(context, metadata) == []
    assert set(inspect(engine).get_table_names()) == {
        "plans", "plan_prices", "subscriptions", "outbox", bootstrap.VERSION_TABLE
    }


def test_migrating_twice_changes_nothing(settings: OnlineBillingSettings) -> None:
    bootstrap.migrate(settings)
    assert bootstrap.database_is_empty(settings)


def test_the_migrate_command_migrates_the_configured_database(monkeypatch, database_url) -> None:  # type: ignore[no-untyped-def]
    url = database_url("online_billing_cli")
    monkeypatch.setenv("ONLINE_BILLING_DATABASE_URL", url)
    assert service_main(["migrate"]) == 0
    engine = make_engine(url)
    try:
        assert inspect(engine).has_table("subscriptions")
    finally:
        engine.dispose()


def test_the_demo_gives_acme_ten_business_seats_and_padaria_three_starter_seats_a_year(
    settings: OnlineBillingSettings, engine: Engine
) -> None:
    assert demo_backends.seed_online_billing(settings, {"acme": "id-acme", "padaria": "id-padaria", "globex": "id-g"},
                               clock=FakeClock(NOV_26_2026))
    with SqlOnlineBillingUnitOfWork(engine) as uow:
        [acme] = uow.subscriptions.for_account("id-acme")
        [padaria] = uow.subscriptions.for_account("id-padaria")
        assert uow.subscriptions.for_account("id-g") == []
    with engine.connect() as conn:
        assert dict(conn.execute(select(plans.c.code, plans.c.name)).all()) == {
            "starter": "Starter", "business": "Business", "enterprise": "Enterprise"}
    assert (acme.plan.code, acme.plan.name, acme.seats, acme.interval, acme.status) == (
        "business", "Business", 10, BillingInterval.MONTHLY, SubscriptionStatus.ACTIVE)
    assert acme.unit_price == Money(1600, "USD") and acme.renewal_amount() == Money(16_000, "USD")
    assert (acme.current_period_end.year, acme.current_period_end.month) == (2026, 12)
    assert (padaria.plan.code, padaria.seats, padaria.interval) == ("starter", 3, BillingInterval.ANNUAL)
    assert padaria.unit_price == Money(59_900, "BRL")


def test_the_demo_is_loaded_only_into_an_empty_database(settings: OnlineBillingSettings, engine: Engine) -> None:
    assert bootstrap.database_is_empty(settings)
    assert demo_backends.seed_online_billing(settings, {"acme": "first"})
    assert not bootstrap.database_is_empty(settings)
    assert not demo_backends.seed_online_billing(settings, {"acme": "second"})
    with SqlOnlineBillingUnitOfWork(engine) as uow:
        assert uow.subscriptions.for_account("second") == []
