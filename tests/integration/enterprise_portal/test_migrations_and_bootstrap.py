"""Migrations reach the ORM's schema; the demo loader writes once, only into an empty database."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from billing_common.db import make_engine
from billing_common.money import Money
from services.devstack import demo_backends
from services.enterprise_portal import bootstrap
from services.enterprise_portal.__main__ import main as service_main
from services.enterprise_portal.adapters.orm import metadata
from services.enterprise_portal.adapters.unit_of_work import SqlEnterprisePortalUnitOfWork
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.service_layer.services import get_open_invoice_summary


def test_migrations_bring_an_empty_database_to_exactly_the_orm_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": bootstrap.VERSION_TABLE}
        )
        assert context.get_current_revision() is not None
        assert compare_metadata(context, metadata) == []
    assert set(inspect(engine).get_table_names()) == {
        "invoices", "invoice_lines", "payments", "receipts", "credits", "card_payments", "purchase_orders",
        "invoice_number_series", "outbox", "quotes", "quote_versions", "quote_lines", "quote_comments",
        bootstrap.VERSION_TABLE}


def test_migrating_twice_changes_nothing(settings: EnterprisePortalSettings) -> None:
    bootstrap.migrate(settings)
    assert bootstrap.database_is_empty(settings)


def test_the_migrate_command_migrates_the_configured_database(monkeypatch, database_url) -> None:  # type: ignore[no-untyped-def]
    url = database_url("enterprise_portal_cli")
    monkeypatch.setenv("ENTERPRISE_PORTAL_DATABASE_URL", url)
    assert service_main(["migrate"]) == 0
    engine = make_engine(url)
    try:
        assert inspect(engine).has_table("invoices")
    finally:
        engine.dispose()


def test_the_globex_demo_has_two_open_invoices_with_9150_dollars_50_due(
    settings: EnterprisePortalSettings, engine: Engine
) -> None:
    assert demo_backends.seed_enterprise_portal(settings, {"acme": "id-acme", "globex": "id-globex"})
    with SqlEnterprisePortalUnitOfWork(engine) as uow:
        open_invoices = uow.invoices.open_for_account("id-globex")
    assert {(i.number, i.terms, i.po_number) for i in open_invoices} == {
        ("INV-1002", "NET 30", "PO-7781"), ("INV-1003", "NET 45", None)}
    deps = bootstrap.build_dependencies(settings, engine=engine)
    summary = get_open_invoice_summary(deps, "id-globex")
    assert (summary.open_count, summary.total_due) == (2, Money(915_050, "USD"))
    assert get_open_invoice_summary(deps, "id-acme").open_count == 0


def test_the_demo_is_loaded_only_into_an_empty_database(settings: EnterprisePortalSettings, engine: Engine) -> None:
    assert bootstrap.database_is_empty(settings)
    assert demo_backends.seed_enterprise_portal(settings, {"globex": "first"})
    assert not bootstrap.database_is_empty(settings)
    assert not demo_backends.seed_enterprise_portal(settings, {"globex": "second"})
    with SqlEnterprisePortalUnitOfWork(engine) as uow:
        assert uow.invoices.open_for_account("second") == []


def test_the_globex_demo_has_a_negotiated_quote_and_a_draft_the_rep_alone_sees(
    settings: EnterprisePortalSettings, engine: Engine
) -> None:
    from services.enterprise_portal.domain.quotes import QuoteStatus
    from services.enterprise_portal.service_layer import quotes

    assert demo_backends.seed_enterprise_portal(settings, {"globex": "id-globex"})
    deps = bootstrap.build_dependencies(settings, engine=engine)
    seen = quotes.list_quotes(deps, "id-globex", customer=True)
    assert [(s.version.label, s.status, s.version.totals.total) for s in seen] == [
        ("QT-0001-2", QuoteStatus.OPEN, Money(3_666_000, "USD"))]
    assert [(s.version.label, s.status) for s in quotes.list_quotes(deps, "id-globex", customer=False)] == [
        ("QT-0002-1", QuoteStatus.DRAFT), ("QT-0001-2", QuoteStatus.OPEN)]
    detail = quotes.get_quote(deps, "id-globex", "QT-0001", customer=True)
    assert [c.body for c in detail.comments] == ["Could you do 15% on the seats and NET 45?"]


def test_0004_quotes_downgrades_to_0003_and_upgrades_again(settings: EnterprisePortalSettings, engine: Engine) -> None:
    from billing_common.db import revert_migrations, run_migrations

    quote_tables = {"quotes", "quote_versions", "quote_lines", "quote_comments"}
    revert_migrations(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE, "0003_invoicing_on_terms")
    tables = set(inspect(engine).get_table_names())
    assert not quote_tables & tables and "invoice_number_series" in tables
    run_migrations(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)
    assert quote_tables <= set(inspect(engine).get_table_names())


def test_0005_outbox_deferred_mails_downgrades_to_0004_and_upgrades_again(
        settings: EnterprisePortalSettings, engine: Engine) -> None:
    from billing_common.db import revert_migrations, run_migrations

    def columns(table: str) -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns(table)}

    revert_migrations(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE, "0004_quotes")
    assert not {"attachment", "deferred"} & columns("outbox") and "notify_emails" in columns("purchase_orders")
    run_migrations(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)
    assert {"attachment", "deferred"} <= columns("outbox") and "notify_emails" not in columns("purchase_orders")
