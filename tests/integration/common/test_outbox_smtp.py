"""The mail outbox against a real SMTP server (aiosmtpd, tests/smtp_server.py) that goes down,
refuses, hangs and comes back, on a real database (SQLite or PostgreSQL). Messages are counted
by their Message-ID: each must arrive, and only once."""
from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import MetaData, create_engine, select, text

from billing_common.clock import FakeClock, SystemClock, utc
from billing_common.config import ServiceSettings
from billing_common.db import make_engine
from billing_common.mail import SmtpTransport
from billing_common.outbox import OutboxDispatcher, OutgoingMail, enqueue, outbox_table
from billing_common.service import build_service
from tests.smtp_server import SmtpServer

SENDER = "Billing <billing@example.test>"
START = 1_800_000_000.0


@pytest.fixture
def db(database_url, unique):
    metadata = MetaData()
    table = outbox_table(metadata)
    url = database_url(unique("outbox_smtp").replace("-", "_"))
    engine = make_engine(url)
    metadata.create_all(engine)
    yield engine, table, url
    engine.dispose()


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


def write(engine, table, to, clock, n=1):
    """Writes n reset mails to `to`; returns their stored ids."""
    with engine.begin() as conn:
        return [enqueue(conn, table, OutgoingMail(to=(to,), subject="Reset your password",
                                                  body=f"Open this link:\nhttp://x/reset/{i}\n"), utc(clock.now()))
                for i in range(n)]


def expected(ids):
    return Counter({f"<{i}@example.test>": 1 for i in ids})


def waiting(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(table.c.id).where(table.c.sent_at.is_(None), table.c.failed_at.is_(None))).all()


def test_every_message_arrives_exactly_once_after_an_smtp_outage_of_hours(db, smtp, unique):
    engine, table, _ = db
    clock = FakeClock(START)
    to = unique("outage") + "@example.test"
    dispatcher = OutboxDispatcher(engine, table, SmtpTransport(smtp.url), SENDER, clock=clock)
    ids = write(engine, table, to, clock, n=5)

    # The relay is down (nothing listens on its port) for two hours; a poll every 30 s, and a
    # new reset mail written every ten minutes.
    for step in range(240):
        if step % 20 == 0:
            ids += write(engine, table, to, clock)
        assert dispatcher.dispatch_once() == 0
        clock.advance(30)
    with engine.connect() as conn:
        assert conn.execute(select(table.c.failed_at).where(table.c.failed_at.is_not(None))).all() == []

    smtp.start()
    for _ in range(40):
        if not waiting(engine, table):
            break
        dispatcher.dispatch_once()
        clock.advance(30)
    for _ in range(3):
        clock.advance(600)
        dispatcher.dispatch_once()

    assert smtp.message_ids() == expected(ids)
    assert {m.get_content().split("/reset/")[1].strip() for m in smtp.received} == {str(i) for i in range(5)} | {"0"}
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.to_addrs == to)).all()
    assert all(r.sent_at is not None and r.failed_at is None and r.body == "" for r in rows)


def test_a_retried_message_carries_the_message_id_it_was_written_with(db, smtp, unique):
    engine, table, _ = db
    clock = FakeClock(START)
    smtp.start()
    smtp.refuse(2)
    [message_id] = write(engine, table, unique("retry") + "@example.test", clock)
    dispatcher = OutboxDispatcher(engine, table, SmtpTransport(smtp.url), SENDER, clock=clock)

    for _ in range(3):
        dispatcher.dispatch_once()
        clock.advance(10)

    header = f"<{message_id}@example.test>"
    assert [m["Message-ID"] for m in smtp.refused] == [header, header]
    assert smtp.message_ids() == Counter({header: 1})


class Died(BaseException):
    """The process dying (not an error the dispatcher may catch)."""


class DiesAfterDelivering:
    """Delivers through the real relay, and dies right after the `nth` delivery: before the
    dispatcher could record it."""

    def __init__(self, transport, nth):
        self.transport = transport
        self.left = nth

    def send(self, message):
        self.transport.send(message)
        self.left -= 1
        if self.left == 0:
            raise Died()


def test_a_dispatcher_dying_in_the_middle_of_a_batch_leaves_at_most_the_message_in_doubt_to_be_sent_twice(
    db, smtp, unique
):
    engine, table, _ = db
    clock = FakeClock(START)
    smtp.start()
    ids = write(engine, table, unique("batch") + "@example.test", clock, n=20)

    with pytest.raises(Died):
        OutboxDispatcher(engine, table, DiesAfterDelivering(SmtpTransport(smtp.url), 5), SENDER, clock=clock,
                         lease=600).dispatch_once()
    after = OutboxDispatcher(engine, table, SmtpTransport(smtp.url), SENDER, clock=clock, lease=600)
    after.dispatch_once()
    clock.advance(600)
    after.dispatch_once()
    after.dispatch_once()

    received = smtp.message_ids()
    assert set(received) == set(expected(ids))
    # The fifth was delivered, but not recorded: it is the one resent, under the same Message-ID.
    assert received == expected(ids) + Counter({f"<{ids[4]}@example.test>": 1})
    assert not waiting(engine, table)


def test_two_dispatchers_in_parallel_send_each_message_once(db, smtp, unique):
    """Each dispatcher with its own engine (two replicas); on PostgreSQL their claims skip each
    other's locked rows, on SQLite they take turns."""
    engine, table, url = db
    smtp.start()
    clock = FakeClock(START)
    ids = write(engine, table, unique("parallel") + "@example.test", clock, n=60)
    engines = [make_engine(url), make_engine(url)]
    sent = [0, 0]

    def drain(k):
        dispatcher = OutboxDispatcher(engines[k], table, SmtpTransport(smtp.url), SENDER, clock=clock, batch=5)
        for _ in range(100):
            n = dispatcher.dispatch_once()
            sent[k] += n
            if n == 0 and not waiting(engines[k], table):
                return

    threads = [threading.Thread(target=drain, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for e in engines:
        e.dispose()

    assert smtp.message_ids() == expected(ids)
    assert sum(sent) == 60
    assert not waiting(engine, table)


def test_a_hanging_smtp_server_does_not_hold_up_other_writers_on_sqlite(tmp_path, smtp, unique):
    url = f"sqlite:///{tmp_path / 'hang.db'}"
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = make_engine(url)
    metadata.create_all(engine)
    clock = FakeClock(START)
    write(engine, table, unique("hang") + "@example.test", clock, n=2)
    smtp.start()
    smtp.hang_at(2)  # the first message goes through, the second gets no answer
    dispatcher = OutboxDispatcher(engine, table, SmtpTransport(smtp.url, timeout=60), SENDER, clock=clock)
    poll = threading.Thread(target=dispatcher.dispatch_once)
    poll.start()
    # Another writer, the way a use case writes, willing to wait 2 s for the database's lock.
    other = create_engine(url, connect_args={"timeout": 2})
    try:
        assert smtp.hanging.wait(30)
        with other.begin() as conn:
            enqueue(conn, table, OutgoingMail(to=("x@example.test",), subject="Hi", body="Hi\n"), utc(clock.now()))
        assert poll.is_alive()  # the relay still holds the second message
    finally:
        smtp.release()
        poll.join(60)
        other.dispose()
        engine.dispose()
    assert len(smtp.received) == 2


def test_no_database_transaction_stays_open_while_the_smtp_server_hangs(db, smtp, unique):
    engine, table, _ = db
    if engine.dialect.name != "postgresql":
        pytest.skip("pg_stat_activity shows open transactions on PostgreSQL (the SQLite case is the test above)")
    clock = FakeClock(START)
    write(engine, table, unique("hang") + "@example.test", clock, n=2)
    smtp.start()
    smtp.hang_at(2)
    dispatcher = OutboxDispatcher(engine, table, SmtpTransport(smtp.url, timeout=60), SENDER, clock=clock)
    poll = threading.Thread(target=dispatcher.dispatch_once)
    poll.start()
    try:
        assert smtp.hanging.wait(30)
        with engine.connect() as conn:
            open_transactions = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")).scalar_one()
        assert open_transactions == 0
    finally:
        smtp.release()
        poll.join(60)


@pytest.fixture
def silent_server():
    """Accepts connections and never says a word (a relay that hangs before its greeting)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"smtp://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_a_relay_that_never_answers_is_given_up_on_for_this_attempt_and_the_message_retried(db, silent_server, unique):
    engine, table, _ = db
    clock = FakeClock(START)
    to = unique("silent") + "@example.test"
    write(engine, table, to, clock)
    dispatcher = OutboxDispatcher(engine, table, SmtpTransport(silent_server, connect_timeout=0.2, timeout=0.2),
                                  SENDER, clock=clock)
    poll = threading.Thread(target=dispatcher.dispatch_once)
    poll.start()
    poll.join(30)
    assert not poll.is_alive()
    with engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.to_addrs == to)).one()
    assert row.sent_at is None and row.failed_at is None and "timed out" in row.last_error
    assert "/reset/0" in row.body


def test_a_relay_that_hangs_in_the_middle_of_a_message_times_out_and_the_retry_arrives(db, smtp, unique):
    engine, table, _ = db
    clock = FakeClock(START)
    [message_id] = write(engine, table, unique("stall") + "@example.test", clock)
    smtp.start()
    smtp.hang_at(1)
    dispatcher = OutboxDispatcher(engine, table, SmtpTransport(smtp.url, connect_timeout=5, timeout=0.2),
                                  SENDER, clock=clock)
    assert dispatcher.dispatch_once() == 0  # the send timed out
    smtp.release()
    clock.advance(2)
    assert dispatcher.dispatch_once() == 1
    # The relay may also take the stalled copy once released: it carries the same Message-ID.
    assert set(smtp.message_ids()) == {f"<{message_id}@example.test>"}


def test_a_service_s_dispatcher_takes_the_relay_its_timeouts_and_its_retry_window_from_the_settings(
    db, silent_server, unique
):
    """build_service (what each service's server runs) with a relay that never answers, a short
    connect timeout and no retry window: the message is given up on after its first attempt."""
    engine, table, _ = db
    to = unique("configured") + "@example.test"
    write(engine, table, to, SystemClock())
    settings = ServiceSettings(smtp_url=silent_server, smtp_connect_timeout=0.2, smtp_timeout=0.2,
                               outbox_give_up_after=0, outbox_poll_interval=0.05, shutdown_grace=1.0)
    server = build_service(settings, service_name="test.Outbox", register=lambda s: None, engine=engine,
                           outbox=table, on_stop=lambda: None, allowed_callers={})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _row(engine, table, to).failed_at:
            time.sleep(0.05)
    finally:
        server.stop()
    row = _row(engine, table, to)
    assert row.failed_at is not None and row.attempts == 1 and "timed out" in row.last_error and row.body == ""


def _row(engine, table, to):
    with engine.connect() as conn:
        return conn.execute(select(table).where(table.c.to_addrs == to)).one()


def test_the_outbox_and_relay_settings_come_from_the_environment(monkeypatch):
    for name, value in {"SMTP_CONNECT_TIMEOUT": "2", "SMTP_TIMEOUT": "4", "OUTBOX_MAX_DELAY": "120",
                        "OUTBOX_GIVE_UP_AFTER": "172800", "OUTBOX_CLAIM_LEASE": "900",
                        "OUTBOX_STATUS_INTERVAL": "30"}.items():
        monkeypatch.setenv(name, value)
    s = ServiceSettings()
    assert (s.smtp_connect_timeout, s.smtp_timeout, s.outbox_max_delay, s.outbox_give_up_after,
            s.outbox_claim_lease, s.outbox_status_interval) == (2, 4, 120, 172800, 900, 30)
    monkeypatch.delenv("SMTP_CONNECT_TIMEOUT")
    monkeypatch.delenv("OUTBOX_GIVE_UP_AFTER")
    defaults = ServiceSettings()
    assert (defaults.smtp_connect_timeout, defaults.outbox_give_up_after) == (5, 24 * 60 * 60)


@pytest.fixture
def tls_relay(tmp_path):
    """A relay that requires STARTTLS, with a throwaway self-signed certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(tls=context).start()
    yield server
    server.stop()


def test_mail_goes_over_starttls_when_the_relay_offers_it(db, tls_relay, unique):
    engine, table, _ = db
    clock = FakeClock(START)
    [message_id] = write(engine, table, unique("tls") + "@example.test", clock)
    dispatcher = OutboxDispatcher(engine, table, SmtpTransport(tls_relay.url), SENDER, clock=clock)

    assert dispatcher.dispatch_once() == 1
    assert tls_relay.message_ids() == Counter({f"<{message_id}@example.test>": 1})
