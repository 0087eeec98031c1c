"""The SQL side of identity against a real database: migrations, repositories, outbox.

PostgreSQL when TEST_DATABASE_URL is set, else a SQLite file.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from billing_common.db import aware_utc, make_engine
from billing_common.errors import AlreadyExists
from billing_common.mail import MaildirTransport, read_maildir
from billing_common.outbox import OutboxDispatcher, OutgoingMail
from services.identity import bootstrap
from services.identity.adapters import orm
from services.identity.adapters.unit_of_work import SqlIdentityUnitOfWork
from services.identity.config import IdentitySettings
from services.identity.domain.model import Account, AccountKind, Membership, Role, User

# Times of day with microseconds, so a round trip that dropped precision or shifted the zone shows.
T1 = dt.datetime(2026, 11, 26, 13, 33, 20, 250_001, tzinfo=dt.UTC)
T2 = T1 + dt.timedelta(hours=1)


@pytest.fixture
def engine(identity_database):
    e = make_engine(identity_database)
    yield e
    e.dispose()


def _account(unique, kind=AccountKind.ONLINE) -> Account:
    return Account(id=unique("acct"), name=unique("Acme"), kind=kind, currency="USD", locale="en", created_at=T1)


def _user(unique, **kw) -> User:
    name = unique("user")
    fields = {"id": unique("uid"), "login": name, "email": f"{name}@acme.test", "name": "Someone",
              "locale": "en", "created_at": T1} | kw
    return User(**fields)


def test_migrations_create_the_schema_the_code_declares(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": "identity_alembic_version"})
        assert compare_metadata(context, orm.metadata) == []
    tables = set(inspect(engine).get_table_names())
    assert {"accounts", "users", "memberships", "rep_accounts", "audit_log", "outbox",
            "identity_alembic_version"} <= tables


def test_migrating_again_is_harmless_and_an_empty_database_is_reported(database_url):
    settings = IdentitySettings(database_url=database_url("identity_fresh"))
    assert bootstrap.database_is_empty(settings)
    bootstrap.migrate(settings)
    bootstrap.migrate(settings)
    assert bootstrap.database_is_empty(settings)
    engine = make_engine(settings.database_url)
    with SqlIdentityUnitOfWork(engine) as uow:
        uow.accounts.add(Account(id="a1", name="Acme", kind=AccountKind.ONLINE, currency="USD", locale="en",
                                 created_at=T1))
        uow.commit()
    engine.dispose()
    assert not bootstrap.database_is_empty(settings)


def test_accounts_and_users_round_trip(engine, unique):
    account, user = _account(unique), _user(unique, password_hash="h", staff=True)
    with SqlIdentityUnitOfWork(engine) as uow:
        uow.accounts.add(account)
        uow.users.add(user)
        uow.commit()
    with SqlIdentityUnitOfWork(engine) as uow:
        assert uow.accounts.get(account.id) == account
        assert uow.users.get(user.id) == user
        assert uow.accounts.get("missing") is None and uow.users.get("missing") is None


def test_users_are_found_by_user_id_or_email_case_insensitively(engine, unique):
    user = _user(unique, login=unique("Globex-Billing"), email=unique("AP") + "@Globex.test")
    with SqlIdentityUnitOfWork(engine) as uow:
        uow.users.add(user)
        uow.commit()
    with SqlIdentityUnitOfWork(engine) as uow:
        assert uow.users.by_login(user.login.lower()).id == user.id
        assert uow.users.by_login(user.email.lower()).id == user.id
        assert uow.users.taken(user.email.lower())
        assert uow.users.by_login("nobody") is None


def test_a_taken_user_id_or_email_is_refused_by_the_database_and_the_transaction_goes_on(engine, unique):
    first = _user(unique)
    with SqlIdentityUnitOfWork(engine) as uow:
        uow.users.add(first)
        uow.commit()
    with SqlIdentityUnitOfWork(engine) as uow:
        with pytest.raises(AlreadyExists):
            uow.users.add(_user(unique, login=first.login.upper()))
        with pytest.raises(AlreadyExists):
            uow.users.add(_user(unique, email=first.email.upper()))
        other = _user(unique)
        uow.users.add(other)
        uow.commit()
    with SqlIdentityUnitOfWork(engine) as uow:
        assert uow.users.get(other.id) is not None


def test_password_hashes_are_updated(engine, unique):
    user = _user(unique)
    with SqlIdentityUnitOfWork(engine) as uow:
        uow.users.add(user)
        uow.users.set_password_hash(user.id, "$argon2id$new")
        uow.commit()
    with SqlIdentityUnitOfWork(engine) as uow:
        assert uow.users.get(user.id).password_hash == "$argon2id$new"


def test_memberships_one_per_user_with_roles_and_billing_contacts(engine, unique):
    account, other = _account(unique), _account(unique)
    contact, member = _user(unique, name="B Contact"), _user(unique, name="A Member")
    with SqlIdentityUnitOfWork(engine) as uow:
        for a in (account, other):
            uow.accounts.add(a)
        for u in (contact, member):
            uow.users.add(u)
        uow.memberships.put(Membership(contact.id, account.id, Role.BILLING_CONTACT), T1)
        uow.memberships.put(Membership(member.id, account.id, Role.MEMBER), T1)
        uow.commit()
    with SqlIdentityUnitOfWork(engine) as uow:
        assert uow.memberships.for_user(member.id) == Membership(member.id, account.id, Role.MEMBER)
        assert [u.id for u in uow.memberships.users_with_role(account.id, Role.BILLING_CONTACT)] == [contact.id]
        uow.memberships.put(Membership(member.id, account.id, Role.BILLING_CONTACT), T2)
        assert [u.name for u in uow.memberships.users_with_role(account.id, Role.BILLING_CONTACT)] == [
            "A Member", "B Contact"]
        uow.memberships.remove(member.id)
        assert uow.memberships.for_user(member.id) is None
        uow.commit()


def test_the_database_itself_allows_one_membership_per_user(engine, unique):
    a, b, user = _account(unique), _account(unique), _user(unique)
    with SqlIdentityUnitOfWork(engine) as uow:
        uow.accounts.add(a)
        uow.accounts.add(b)
        uow.users.add(user)
        uow.commit()
    with SqlIdentityUnitOfWork(engine) as uow:
        uow.connection.execute(orm.memberships.insert().values(user_id=user.id, account_id=a.id,
                                                               role="member", created_at=T1))
        with pytest.raises(IntegrityError):
            uow.connection.execute(orm.memberships.insert().values(user_id=user.id, account_id=b.id,
                                                                   role="member", created_at=T1))


def test_reps_are_assigned_once_and_list_their_accounts(engine, unique):
    rep, account = _user(unique, staff=True), _account(unique, AccountKind.ENTERPRISE)
    with SqlIdentityUnitOfWork(engine) as uow:
        uow.users.add(rep)
        uow.accounts.add(account)
        assert uow.reps.assign(rep.id, account.id, T1)
        assert not uow.reps.assign(rep.id, account.id, T2)
        uow.commit()
    with SqlIdentityUnitOfWork(engine) as uow:
        assert uow.reps.accounts_of(rep.id) == [account]
        # In one query for many accounts (ListBillingContacts' reps): accounts without one left out.
        other = _account(unique, AccountKind.ENTERPRISE)
        uow.accounts.add(other)
        assert {a: [u.id for u in reps] for a, reps in uow.reps.reps_in([account.id, other.id]).items()} == {
            account.id: [rep.id]}


def test_audit_rows_and_outbox_mail_are_written_in_the_transaction(engine, unique, tmp_path):
    marker = unique("audit")
    with SqlIdentityUnitOfWork(engine) as uow:
        uow.audit.record(T2, "provisioning", marker, user_id="u", details={"role": "member"})
        mail = OutgoingMail(to=("ap@globex.test",), subject=marker, body="Hello\n", reply_to="erin@globex.test")
        uow.outbox.add(mail, T2)
        uow.commit()
    with engine.connect() as conn:
        row = conn.execute(select(orm.audit_log).where(orm.audit_log.c.action == marker)).one()
        assert json.loads(row.details) == {"role": "member"} and row.actor == "provisioning"
        assert aware_utc(row.at) == T2
    dispatcher = OutboxDispatcher(engine, orm.outbox, MaildirTransport(tmp_path / "mail"), "Billing <b@x.test>")
    assert dispatcher.dispatch_once() >= 1
    mail = next(m for m in read_maildir(tmp_path / "mail", newest=50) if m["Subject"] == marker)
    assert mail["To"] == "ap@globex.test" and mail["Reply-To"] == "erin@globex.test"
    assert mail["Date"] == "Thu, 26 Nov 2026 14:33:20 -0000"  # T2, the moment it was written


def test_leaving_a_unit_of_work_without_commit_writes_nothing(engine, unique):
    account = _account(unique)
    with SqlIdentityUnitOfWork(engine) as uow:
        uow.accounts.add(account)
    with SqlIdentityUnitOfWork(engine) as uow:
        assert uow.accounts.get(account.id) is None


def test_a_users_standing_comes_with_their_membership_and_account_in_one_read(engine, unique):
    account = _account(unique)
    member, rep = _user(unique, password_hash="h"), _user(unique, staff=True)
    with SqlIdentityUnitOfWork(engine) as uow:
        uow.accounts.add(account)
        uow.users.add(member)
        uow.users.add(rep)
        uow.memberships.put(Membership(member.id, account.id, Role.MEMBER), T1)
        uow.commit()
    with SqlIdentityUnitOfWork(engine) as uow:
        membership = Membership(member.id, account.id, Role.MEMBER)
        assert uow.users.standing(member.id) == (member, membership, account)
        assert uow.users.standing(rep.id) == (rep, None, None)
        assert uow.users.standing("missing") is None
        assert uow.users.standing_by_login(member.email.lower()) == uow.users.standing(member.id)
        assert uow.users.standing_by_login(rep.login.lower()).user == rep
        assert uow.users.standing_by_login("nobody") is None


def test_a_standing_by_login_prefers_the_user_id_over_someone_elses_email(engine, unique):
    name = unique("shared")
    by_id = _user(unique, login=name, email=unique("x") + "@acme.test")
    # create_user refuses such a pair; the database alone does not.
    by_email = _user(unique, login=unique("y"), email=name)
    with SqlIdentityUnitOfWork(engine) as uow:
        uow.users.add(by_email)
        uow.users.add(by_id)
        uow.commit()
    with SqlIdentityUnitOfWork(engine) as uow:
        assert uow.users.standing_by_login(name.lower()).user.id == by_id.id
        assert uow.users.by_login(name.lower()).id == by_id.id
