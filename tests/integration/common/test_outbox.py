"""The mail outbox against a real database (SQLite or PostgreSQL) and a real Maildir."""
import threading
import time

import pytest
from sqlalchemy import MetaData, func, select

from billing_common.clock import FakeClock, utc
from billing_common.db import make_engine
from billing_common.mail import MaildirTransport, read_maildir
from billing_common.outbox import MAX_ATTEMPTS, OutboxDispatcher, OutgoingMail, enqueue, outbox_table


@pytest.fixture(scope="module")
def db(database_url):
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = make_engine(database_url("outbox"))
    metadata.create_all(engine)
    yield engine, table
    engine.dispose()


def mail(to):
    return OutgoingMail(to=(to,), subject="Reset your password", body="Open this link:\nhttp://x/reset/1")


def test_a_message_written_in_a_rolled_back_transaction_is_never_sent(db, tmp_path, unique):
    engine, table = db
    to = unique("rollback") + "@example.test"
    with engine.connect() as conn, conn.begin() as tx:
        enqueue(conn, table, mail(to), utc(time.time()))
        tx.rollback()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).where(table.c.to_addrs == to)).scalar() == 0


def test_the_dispatcher_delivers_to_the_maildir_once(db, tmp_path, unique):
    engine, table = db
    to = unique("olivia") + "@example.test"
    with engine.begin() as conn:
        enqueue(conn, table, mail(to), utc(time.time()))
    dispatcher = OutboxDispatcher(engine, table, MaildirTransport(tmp_path), "Billing <b@example.test>")
    dispatcher.dispatch_once()
    dispatcher.dispatch_once()
    delivered = [m for m in read_maildir(tmp_path, 50) if m["To"] == to]
    assert len(delivered) == 1
    assert delivered[0]["Subject"] == "Reset your password"


class Flaky:
    def __init__(self, failures):
        self.failures = failures
        self.sent = []

    def send(self, message):
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("smtp down")
        self.sent.append(message)


def test_a_failed_delivery_is_retried_later_with_backoff(db, unique):
    engine, table = db
    to = unique("retry") + "@example.test"
    clock = FakeClock(time.time())
    with engine.begin() as conn:
        enqueue(conn, table, mail(to), utc(clock.now()))
    transport = Flaky(failures=1)
    dispatcher = OutboxDispatcher(engine, table, transport, "b@example.test", clock=clock)
    dispatcher.dispatch_once()
    assert not [m for m in transport.sent if m["To"] == to]
    dispatcher.dispatch_once()  # not due yet
    assert not [m for m in transport.sent if m["To"] == to]
    clock.advance(5)
    dispatcher.dispatch_once()
    assert [m for m in transport.sent if m["To"] == to]


def test_a_message_that_keeps_failing_is_parked_not_retried_forever(db, unique):
    engine, table = db
    to = unique("dead") + "@example.test"
    clock = FakeClock(time.time())
    with engine.begin() as conn:
        enqueue(conn, table, mail(to), utc(clock.now()))
    dispatcher = OutboxDispatcher(engine, table, Flaky(failures=10**6), "b@example.test", clock=clock)
    for _ in range(MAX_ATTEMPTS + 2):
        dispatcher.dispatch_once()
        clock.advance(3600)
    with engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.to_addrs == to)).one()
    assert row.attempts == MAX_ATTEMPTS and row.failed_at is not None and row.sent_at is None


def test_two_dispatchers_never_send_the_same_message_twice(db, tmp_path, unique):
    engine, table = db
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) exist on PostgreSQL; SQLite has a single writer")
    tos = [unique("many") + "@example.test" for _ in range(40)]
    with engine.begin() as conn:
        for to in tos:
            enqueue(conn, table, mail(to), utc(time.time()))

    class Slow(Flaky):
        def send(self, message):
            time.sleep(0.005)
            super().send(message)

    transports = [Slow(0), Slow(0)]
    threads = [
        threading.Thread(target=lambda t=t: [OutboxDispatcher(engine, table, t, "b@x.test", batch=5).dispatch_once()
                                             for _ in range(10)])
        for t in transports
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = [m["To"] for t in transports for m in t.sent if m["To"] in tos]
    assert sorted(sent) == sorted(tos)


def test_a_delivered_message_leaves_no_reset_link_in_the_database(db, tmp_path, unique):
    engine, table = db
    to = unique("blank") + "@example.test"
    with engine.begin() as conn:
        enqueue(conn, table, mail(to), utc(time.time()))
    OutboxDispatcher(engine, table, MaildirTransport(tmp_path), "b@example.test").dispatch_once()
    with engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.to_addrs == to)).one()
    assert row.sent_at is not None and "reset" not in row.body
