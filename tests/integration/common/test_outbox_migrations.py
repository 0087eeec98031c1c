"""Each service's outbox migration on a database that holds mail: float epochs become the same
instants as UTC datetimes, NULLs stay NULL, the pending message is then delivered, and the
downgrade gives the epochs back.

PostgreSQL when TEST_DATABASE_URL is set (converted in place), else SQLite (table rebuilt).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from types import ModuleType

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, Table, select, text

from billing_common.clock import FakeClock
from billing_common.db import aware_utc, make_engine, migrate, revert_migrations
from billing_common.outbox import OutboxDispatcher
from services.enterprise_portal import bootstrap as enterprise_portal
from services.enterprise_portal.adapters import orm as enterprise_portal_orm
from services.identity import bootstrap as identity
from services.identity.adapters import orm as identity_orm
from services.online_billing import bootstrap as online_billing
from services.online_billing.adapters import orm as online_billing_orm

# Epochs with fractions a float holds exactly, so the converted values can be compared exactly.
SENT_CREATED, SENT_AT = 1_795_700_000.25, 1_795_700_001.5
PENDING_CREATED, PENDING_DUE = 1_795_700_100.125, 1_795_700_104.0625
FAILED_CREATED, FAILED_DUE, FAILED_AT = 1_795_700_200.0, 1_795_700_500.5, 1_795_703_800.75


@dataclass(frozen=True)
class Service:
    name: str
    bootstrap: ModuleType
    metadata: MetaData
    outbox: Table
    before: str  # the revision whose outbox stores float epochs


SERVICES = [
    Service("identity", identity, identity_orm.metadata, identity_orm.outbox, "0002_datetimes_and_names"),
    # An identity database still at 0001 goes through 0002's rebuild of the outbox first.
    Service("identity_from_0001", identity, identity_orm.metadata, identity_orm.outbox, "0001_initial"),
    Service("online_billing", online_billing, online_billing_orm.metadata, online_billing_orm.outbox, "0001"),
    Service("enterprise_portal", enterprise_portal, enterprise_portal_orm.metadata, enterprise_portal_orm.outbox,
            "0001"),
]


def _at(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


@pytest.fixture(params=SERVICES, ids=[s.name for s in SERVICES])
def service(request: pytest.FixtureRequest) -> Service:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def engine(service: Service, database_url) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    e = make_engine(database_url(f"{service.name}_outbox"))
    migrate(e, service.bootstrap.MIGRATIONS, service.bootstrap.VERSION_TABLE, revision=service.before)
    _fill_with_epochs(e)
    yield e
    e.dispose()


def _fill_with_epochs(engine: Engine) -> None:
    """One delivered message, one waiting for its second retry, one given up on."""
    rows = [
        {"message_id": "m-sent", "to": "sent@example.test", "body": "", "created_at": SENT_CREATED,
         "attempts": 1, "next_attempt_at": SENT_CREATED, "sent_at": SENT_AT, "failed_at": None, "error": None},
        {"message_id": "m-pending", "to": "pending@example.test", "body": "Still to go\n",
         "created_at": PENDING_CREATED, "attempts": 2, "next_attempt_at": PENDING_DUE, "sent_at": None,
         "failed_at": None, "error": "ConnectionRefusedError('smtp down')"},
        {"message_id": "m-failed", "to": "failed@example.test", "body": "", "created_at": FAILED_CREATED,
         "attempts": 8, "next_attempt_at": FAILED_DUE, "sent_at": None, "failed_at": FAILED_AT,
         "error": "ConnectionRefusedError('smtp down')"},
    ]
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO outbox (message_id, to_addrs, reply_to, subject, body, created_at, attempts, "
            "next_attempt_at, sent_at, failed_at, last_error) VALUES (:message_id, :to, NULL, 'Hello', :body, "
            ":created_at, :attempts, :next_attempt_at, :sent_at, :failed_at, :error)"), rows)


def _times(engine: Engine, table: Table) -> dict[str, tuple[dt.datetime | None, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.message_id, table.c.created_at, table.c.next_attempt_at,
                                   table.c.sent_at, table.c.failed_at)).all()
    return {row.message_id: tuple(None if t is None else aware_utc(t) for t in row[1:]) for row in rows}


class Recording:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


def test_upgrading_converts_every_outbox_epoch_to_the_same_utc_instant(service: Service, engine: Engine) -> None:
    migrate(engine, service.bootstrap.MIGRATIONS, service.bootstrap.VERSION_TABLE)

    assert _times(engine, service.outbox) == {
        "m-sent": (_at(SENT_CREATED), _at(SENT_CREATED), _at(SENT_AT), None),
        "m-pending": (_at(PENDING_CREATED), _at(PENDING_DUE), None, None),
        "m-failed": (_at(FAILED_CREATED), _at(FAILED_DUE), None, _at(FAILED_AT)),
    }
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": service.bootstrap.VERSION_TABLE})
        assert compare_metadata(context, service.metadata) == []


def test_after_the_upgrade_the_dispatcher_delivers_the_pending_message_when_it_is_due(
    service: Service, engine: Engine
) -> None:
    migrate(engine, service.bootstrap.MIGRATIONS, service.bootstrap.VERSION_TABLE)
    clock = FakeClock(PENDING_DUE - 0.0625)
    transport = Recording()
    dispatcher = OutboxDispatcher(engine, service.outbox, transport, "Billing <b@example.test>", clock=clock)

    assert dispatcher.dispatch_once() == 0  # not due yet
    clock.advance(0.0625)
    assert dispatcher.dispatch_once() == 1
    assert dispatcher.dispatch_once() == 0

    [message] = transport.sent
    assert message["To"] == "pending@example.test"
    # The Date header is the moment the message was written, from the converted created_at.
    assert message["Date"] == "Thu, 26 Nov 2026 13:35:00 -0000"
    with engine.connect() as conn:
        row = conn.execute(select(service.outbox).where(service.outbox.c.message_id == "m-pending")).one()
    assert (aware_utc(row.sent_at), row.attempts, row.body) == (_at(PENDING_DUE), 3, "")


def test_downgrading_gives_the_epochs_back(service: Service, engine: Engine) -> None:
    migrate(engine, service.bootstrap.MIGRATIONS, service.bootstrap.VERSION_TABLE)
    revert_migrations(engine, service.bootstrap.MIGRATIONS, service.bootstrap.VERSION_TABLE, service.before)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT message_id, created_at, next_attempt_at, sent_at, failed_at FROM outbox"))
        assert {row.message_id: tuple(row[1:]) for row in rows} == {
            "m-sent": (SENT_CREATED, SENT_CREATED, SENT_AT, None),
            "m-pending": (PENDING_CREATED, PENDING_DUE, None, None),
            "m-failed": (FAILED_CREATED, FAILED_DUE, None, FAILED_AT),
        }

