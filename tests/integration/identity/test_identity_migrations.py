"""0002 on a database that 0001 made and that holds rows: float epochs become the same instants
as UTC datetimes, constraints get billing_common.db.NAMING's names, and nothing is lost.

PostgreSQL when TEST_DATABASE_URL is set (converted in place), else SQLite (tables rebuilt).
"""
from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text

from billing_common.db import aware_utc, make_engine, migrate, revert_migrations
from services.identity import bootstrap
from services.identity.adapters import orm
from services.identity.adapters.unit_of_work import SqlIdentityUnitOfWork
from services.identity.domain.model import Role

UTC = dt.UTC
# Epochs with fractions a float holds exactly, so the converted values can be compared exactly.
ACCOUNT_AT, USER_AT, MEMBER_AT, REP_AT, AUDIT_AT = (1_795_700_000.25, 1_795_700_001.5, 1_795_700_002.0,
                                                    1_795_700_003.125, 1_795_700_004.0625)


def _at(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=UTC)


@pytest.fixture
def engine(database_url) -> Engine:  # type: ignore[no-untyped-def]
    e = make_engine(database_url("identity_0001"))
    migrate(e, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE, revision="0001_initial")
    yield e
    e.dispose()


def _fill_as_0001_did(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO accounts (id, name, kind, status, currency, locale, created_at) "
                          "VALUES ('a1', 'Globex', 'enterprise', 'active', 'USD', 'en', :at)"), {"at": ACCOUNT_AT})
        for user_id, login in (("u1", "erin@globex.test"), ("r1", "rita.rep")):
            conn.execute(text(
                "INSERT INTO users (id, login, login_normalized, email, email_normalized, name, locale, "
                "password_hash, staff, status, created_at) "
                "VALUES (:id, :login, :login, :login, :login, 'Someone', 'en', NULL, :staff, 'active', :at)"),
                {"id": user_id, "login": login, "staff": user_id == "r1", "at": USER_AT})
        conn.execute(text("INSERT INTO memberships (user_id, account_id, role, created_at) "
                          "VALUES ('u1', 'a1', 'member', :at)"), {"at": MEMBER_AT})
        conn.execute(text("INSERT INTO rep_accounts (rep_user_id, account_id, created_at) "
                          "VALUES ('r1', 'a1', :at)"), {"at": REP_AT})
        conn.execute(text("INSERT INTO audit_log (at, actor, action, user_id, account_id, details) "
                          "VALUES (:at, 'provisioning', 'account.created', NULL, 'a1', '{}')"), {"at": AUDIT_AT})


def test_upgrading_a_0001_database_with_rows_converts_every_epoch_to_the_same_utc_instant(engine: Engine) -> None:
    _fill_as_0001_did(engine)
    migrate(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)

    with SqlIdentityUnitOfWork(engine) as uow:
        account = uow.accounts.get("a1")
        member = uow.users.get("u1")
        standing = uow.users.standing("u1")
        assert account is not None and member is not None and standing is not None
        assert account.created_at == _at(ACCOUNT_AT) and account.created_at.tzinfo is not None
        assert member.created_at == _at(USER_AT)
        # The children of rebuilt parent tables are all still there (no cascade on SQLite).
        assert standing.membership is not None and standing.membership.role is Role.MEMBER
        assert [a.id for a in uow.reps.accounts_of("r1")] == ["a1"]
    with engine.connect() as conn:
        assert aware_utc(conn.execute(select(orm.memberships.c.created_at)).scalar_one()) == _at(MEMBER_AT)
        assert aware_utc(conn.execute(select(orm.rep_accounts.c.created_at)).scalar_one()) == _at(REP_AT)
        assert aware_utc(conn.execute(select(orm.audit_log.c.at)).scalar_one()) == _at(AUDIT_AT)


def test_after_the_upgrade_the_schema_is_the_code_s_with_conventionally_named_constraints(engine: Engine) -> None:
    _fill_as_0001_did(engine)
    migrate(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": bootstrap.VERSION_TABLE})
        assert compare_metadata(context, orm.metadata) == []
    inspector = inspect(engine)
    assert {t: inspector.get_pk_constraint(t)["name"] for t in orm.metadata.tables} == {
        t: f"pk_{t}" for t in orm.metadata.tables}
    assert {u["name"] for u in inspector.get_unique_constraints("users")} == {
        "uq_users_login_normalized", "uq_users_email_normalized"}
    assert {u["name"] for u in inspector.get_unique_constraints("outbox")} == {"uq_outbox_message_id"}
    assert {fk["name"] for fk in inspector.get_foreign_keys("memberships")} == {
        "fk_memberships_user_id_users", "fk_memberships_account_id_accounts"}
    assert {fk["name"] for fk in inspector.get_foreign_keys("rep_accounts")} == {
        "fk_rep_accounts_rep_user_id_users", "fk_rep_accounts_account_id_accounts"}


def test_downgrading_to_0001_gives_the_epochs_back(engine: Engine) -> None:
    _fill_as_0001_did(engine)
    migrate(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)
    revert_migrations(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE, "0001_initial")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT created_at FROM accounts")).scalar_one() == ACCOUNT_AT
        assert conn.execute(text("SELECT at FROM audit_log")).scalar_one() == AUDIT_AT
        assert conn.execute(text("SELECT count(*) FROM memberships")).scalar_one() == 1



def test_0004_gives_existing_users_session_generation_zero_and_its_downgrade_drops_it(engine: Engine) -> None:
    _fill_as_0001_did(engine)
    migrate(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE, revision="0003_outbox_datetimes")
    migrate(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, session_generation FROM users ORDER BY id")).all()
    assert rows == [("r1", 0), ("u1", 0)]
    revert_migrations(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE, "0003_outbox_datetimes")
    assert "session_generation" not in {c["name"] for c in inspect(engine).get_columns("users")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 2


def test_0007_keeps_every_membership_not_primary_and_its_downgrade_drops_what_it_added(engine: Engine) -> None:
    _fill_as_0001_did(engine)
    migrate(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE, revision="0006_audit_caller")
    migrate(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT user_id, is_primary FROM memberships")).all() == [("u1", False)]
        assert conn.execute(text("SELECT last_sign_in_at FROM users WHERE id = 'u1'")).scalar_one() is None
        assert conn.execute(text("SELECT count(*) FROM handovers")).scalar_one() == 0
    revert_migrations(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE, "0006_audit_caller")
    assert "is_primary" not in {c["name"] for c in inspect(engine).get_columns("memberships")}
    assert "last_sign_in_at" not in {c["name"] for c in inspect(engine).get_columns("users")}
    assert "handovers" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM memberships")).scalar_one() == 1
