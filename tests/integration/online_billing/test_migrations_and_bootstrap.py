"""Migrations reach the ORM's schema; the demo loader writes once, only into an empty database."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select

from billing_common import db
from billing_common.clock import FakeClock
from billing_common.db import make_engine
from billing_common.money import Money
from services.devstack import demo_backends
from services.online_billing import bootstrap
from services.online_billing.__main__ import main as service_main
from services.online_billing.adapters.orm import metadata, plan_prices, plans
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
        "plans", "plan_prices", "subscriptions", "outbox", bootstrap.VERSION_TABLE, "payment_methods", "payments",
        "invoices", "invoice_lines", "billing_profiles", "invoice_number_series",
        "change_requests",
    }


def test_migration_0003_writes_the_catalogue_and_keeps_the_prices_a_database_had(database_url) -> None:  # type: ignore[no-untyped-def]
    url = database_url("online_billing_0002")
    engine = make_engine(url)
    try:
        db.migrate(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE, revision="0002_outbox_datetimes")
        with engine.begin() as conn:  # what the demo loader wrote before 0003, one price changed since
            conn.execute(insert(plans).values(code="business", name="Business"))
            conn.execute(insert(plan_prices).values(plan_code="business", currency="USD", interval="monthly",
                                                    unit_amount_minor=1_500))
        db.migrate(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)
        with SqlOnlineBillingUnitOfWork(engine) as uow:
            catalogue = uow.plans.catalogue()
    finally:
        engine.dispose()
    assert [p.code for p in catalogue.plans] == ["starter", "business", "enterprise"]
    assert catalogue.plan("business").max_seats == 300 and catalogue.plan("enterprise").min_seats == 5
    assert len(catalogue.prices) == 18  # 3 plans x USD, EUR, BRL x monthly, annual
    assert catalogue.unit_price("business", "USD", BillingInterval.MONTHLY) == Money(1_500, "USD")  # kept
    assert catalogue.unit_price("business", "EUR", BillingInterval.ANNUAL) == Money(15_000, "EUR")
    for (code, currency, interval), price in catalogue.prices.items():
        if interval is BillingInterval.ANNUAL and (code, currency) != ("business", "USD"):  # two months free
            assert price == catalogue.unit_price(code, currency, BillingInterval.MONTHLY) * 10


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
