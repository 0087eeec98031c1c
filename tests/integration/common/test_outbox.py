"""The mail outbox against a real database (SQLite or PostgreSQL) and a real Maildir."""
import threading
import time

import pytest
from sqlalchemy import MetaData, func, select

from billing_common.clock import FakeClock, utc
from billing_common.db import aware_utc, make_engine
from billing_common.mail import MaildirTransport, read_maildir
from billing_common.outbox import Attachment, OutboxDispatcher, OutgoingMail, enqueue, outbox_table

DAY = 24 * 60 * 60


@pytest.fixture
def db(database_url, unique):
    """A fresh outbox per test: each test moves its own clock, and another test's rows would
    become due under it."""
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = make_engine(database_url(unique("outbox").replace("-", "_")))
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


def _row(engine, table, to):
    with engine.connect() as conn:
        return conn.execute(select(table).where(table.c.to_addrs == to)).one()


def _fail_until(engine, table, to, dispatcher, clock, deadline):
    """Polls each time the message is due, up to `deadline` (epoch seconds); returns the
    delays the dispatcher chose after each failure."""
    delays = []
    while True:
        row = _row(engine, table, to)
        due = aware_utc(row.next_attempt_at).timestamp()
        if row.sent_at is not None or row.failed_at is not None or due >= deadline:
            return delays
        clock.t = max(clock.t, due)
        dispatcher.dispatch_once()
        after = _row(engine, table, to)
        if after.failed_at is None:
            delays.append(aware_utc(after.next_attempt_at).timestamp() - clock.now())


def test_a_failed_delivery_is_retried_with_a_delay_that_doubles_up_to_five_minutes(db, unique):
    engine, table = db
    to = unique("backoff") + "@example.test"
    clock = FakeClock(1_800_000_000.0)
    with engine.begin() as conn:
        enqueue(conn, table, mail(to), utc(clock.now()))
    dispatcher = OutboxDispatcher(engine, table, Flaky(failures=10**6), "b@example.test", clock=clock)

    delays = _fail_until(engine, table, to, dispatcher, clock, deadline=clock.now() + 30 * 60)

    assert delays[:12] == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300, 300]
    assert set(delays[8:]) == {300}


def test_a_message_that_keeps_failing_is_retried_for_a_day_with_its_body_then_given_up_and_blanked(db, unique):
    engine, table = db
    to = unique("dead") + "@example.test"
    start = 1_800_000_000.0
    clock = FakeClock(start)
    with engine.begin() as conn:
        enqueue(conn, table, mail(to), utc(clock.now()))
    dispatcher = OutboxDispatcher(engine, table, Flaky(failures=10**6), "b@example.test", clock=clock)

    # Every retry due within the first 24 hours fails, and the message still waits, link and all.
    _fail_until(engine, table, to, dispatcher, clock, deadline=start + DAY)
    row = _row(engine, table, to)
    assert clock.now() < start + DAY
    assert row.failed_at is None and row.sent_at is None and "/reset/1" in row.body
    assert row.attempts > 250  # about one every 5 minutes

    # The first failure after a day gives it up, and the body goes with it.
    _fail_until(engine, table, to, dispatcher, clock, deadline=start + 2 * DAY)
    row = _row(engine, table, to)
    assert row.failed_at is not None and row.sent_at is None and row.body == ""
    assert clock.now() >= start + DAY and "smtp down" in row.last_error


def test_the_retry_cap_and_the_time_before_giving_up_are_configurable(db, unique):
    engine, table = db
    to = unique("configured") + "@example.test"
    start = 1_800_000_000.0
    clock = FakeClock(start)
    with engine.begin() as conn:
        enqueue(conn, table, mail(to), utc(clock.now()))
    dispatcher = OutboxDispatcher(engine, table, Flaky(failures=10**6), "b@example.test", clock=clock,
                                  max_delay=60, give_up_after=10 * 60)

    delays = _fail_until(engine, table, to, dispatcher, clock, deadline=start + DAY)

    assert delays[:8] == [2, 4, 8, 16, 32, 60, 60, 60]
    row = _row(engine, table, to)
    assert row.failed_at is not None and start + 10 * 60 <= clock.now() < start + 11 * 60


class Died(BaseException):
    """The process dying in the middle of a send (not an error the dispatcher may catch)."""


class DiesWhileSending:
    def send(self, message):
        raise Died()


def test_a_message_claimed_by_a_dispatcher_that_died_is_sent_by_another_once_the_claim_runs_out(db, unique):
    engine, table = db
    to = unique("lease") + "@example.test"
    clock = FakeClock(1_800_000_000.0)
    with engine.begin() as conn:
        enqueue(conn, table, mail(to), utc(clock.now()))
    with pytest.raises(Died):
        OutboxDispatcher(engine, table, DiesWhileSending(), "b@example.test", clock=clock, lease=600).dispatch_once()
    survivor = Flaky(failures=0)
    other = OutboxDispatcher(engine, table, survivor, "b@example.test", clock=clock, lease=600)

    # It may have gone out before the death: nobody sends it again while the claim lasts...
    assert other.dispatch_once() == 0
    clock.advance(599)
    assert other.dispatch_once() == 0
    # ...and once it has run out, it is sent, with the Message-ID it was written with.
    clock.advance(1)
    assert other.dispatch_once() == 1
    [message] = survivor.sent
    row = _row(engine, table, to)
    assert message["Message-ID"] == f"<{row.message_id}@example.test>"
    assert row.sent_at is not None and row.attempts == 2


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


def test_a_dispatcher_stopped_in_the_middle_of_a_batch_hands_back_what_it_has_not_tried(db, unique):
    engine, table = db
    to = unique("shutdown") + "@example.test"
    clock = FakeClock(1_800_000_000.0)
    with engine.begin() as conn:
        for _ in range(5):
            enqueue(conn, table, mail(to), utc(clock.now()))
    stop = threading.Event()

    class StopsAfterTheFirst(Flaky):
        def send(self, message):
            super().send(message)
            stop.set()  # SIGTERM arrives while the first message is being sent

    transport = StopsAfterTheFirst(failures=0)
    OutboxDispatcher(engine, table, transport, "b@example.test", clock=clock).run(stop, interval=0)

    assert len(transport.sent) == 1
    # The other four are due at once for the next replica, their attempt not counted.
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.to_addrs == to, table.c.sent_at.is_(None))).all()
    assert len(rows) == 4
    assert all(r.attempts == 0 and aware_utc(r.next_attempt_at).timestamp() <= clock.now() for r in rows)


def test_a_batch_still_sending_after_half_its_lease_hands_the_rest_back_before_another_dispatcher_may_take_it(
    db, unique
):
    engine, table = db
    to = unique("slow") + "@example.test"
    clock = FakeClock(1_800_000_000.0)
    with engine.begin() as conn:
        for _ in range(3):
            enqueue(conn, table, mail(to), utc(clock.now()))

    class Slow(Flaky):
        def send(self, message):
            super().send(message)
            clock.advance(301)  # a relay taking five minutes a message

    transport = Slow(failures=0)
    assert OutboxDispatcher(engine, table, transport, "b@example.test", clock=clock, lease=600).dispatch_once() == 1
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.to_addrs == to, table.c.sent_at.is_(None))).all()
    assert len(rows) == 2 and all(r.attempts == 0 for r in rows)


@pytest.fixture
def extended(database_url, unique):
    metadata = MetaData()
    table = outbox_table(metadata, extended=True)
    engine = make_engine(database_url(unique("outbox_ext").replace("-", "_")))
    metadata.create_all(engine)
    yield engine, table
    engine.dispose()


def test_an_attachment_is_resolved_when_the_mail_is_sent_and_a_failing_resolver_retries_it(extended, unique):
    engine, table = extended
    to = unique("receipt") + "@example.test"
    clock = FakeClock(time.time())
    with engine.begin() as conn:
        enqueue(conn, table, OutgoingMail(to=(to,), subject="Receipt", body="Attached.", attachment="doc:7"),
                utc(clock.now()))
    asked = []

    def resolve(reference):
        asked.append(reference)
        if len(asked) == 1:
            raise ConnectionError("database down")
        return [Attachment("INV-7.pdf", "application/pdf", b"%PDF-1.4 seven")]

    transport = Flaky(0)
    dispatcher = OutboxDispatcher(engine, table, transport, "Billing <b@example.test>", clock, attachments=resolve)
    assert dispatcher.dispatch_once() == 0  # the resolver failed: retried with backoff, nothing sent
    clock.advance(10)
    assert dispatcher.dispatch_once() == 1
    (message,) = transport.sent
    assert asked == ["doc:7", "doc:7"]
    assert message.get_body(("plain",)).get_content() == "Attached.\n"
    (part,) = list(message.iter_attachments())
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == (
        "INV-7.pdf", "application/pdf", b"%PDF-1.4 seven")


def test_a_deferred_mail_is_replaced_by_the_mails_its_expander_makes_and_retried_while_it_fails(extended, unique):
    engine, table = extended
    to = unique("contact") + "@example.test"
    clock = FakeClock(time.time())
    with engine.begin() as conn:
        enqueue(conn, table, OutgoingMail(to=(), subject="receipt", body="", deferred='{"who": "acct-1"}'),
                utc(clock.now()))
    down = [True]

    def expand(items):
        if down[0]:
            raise ConnectionError("identity down")
        return [[OutgoingMail(to=(to,), subject="Recibo", body=f"para {item}"),
                 OutgoingMail(to=("other@example.test",), subject="Receipt", body=item)] for item in items]

    transport = Flaky(0)
    dispatcher = OutboxDispatcher(engine, table, transport, "Billing <b@example.test>", clock, expand=expand)
    dispatcher.dispatch_once()
    with engine.connect() as conn:
        (row,) = conn.execute(select(table)).all()
    assert (row.attempts, row.sent_at, row.last_error) == (1, None, "ConnectionError('identity down')")
    down[0] = False
    clock.advance(10)
    dispatcher.dispatch_once()  # addresses it: two mails written in its place
    dispatcher.dispatch_once()  # sends them
    assert sorted((m["To"], m["Subject"]) for m in transport.sent) == [
        (to, "Recibo"), ("other@example.test", "Receipt")]
    with engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.id)).all()
    assert [(r.deferred, r.sent_at is not None) for r in rows] == [(None, True)] * 3
    dispatcher.dispatch_once()
    assert len(transport.sent) == 2  # nothing twice
