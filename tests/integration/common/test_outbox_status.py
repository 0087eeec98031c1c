"""The outbox's operator view (what waits, how long, what was given up): a function returning the
figures, and the dispatcher's periodic "outbox status" log line."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import MetaData

from billing_common.clock import FakeClock, utc
from billing_common.db import make_engine
from billing_common.outbox import OutboxDispatcher, OutboxStatus, OutgoingMail, enqueue, outbox_table

START = 1_800_000_000.0


@pytest.fixture
def db(database_url, unique):
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = make_engine(database_url(unique("outbox_status").replace("-", "_")))
    metadata.create_all(engine)
    yield engine, table
    engine.dispose()


class Down:
    def send(self, message):
        raise ConnectionRefusedError("smtp down")


class Up:
    def send(self, message):
        pass


def write(engine, table, to, clock):
    with engine.begin() as conn:
        enqueue(conn, table, OutgoingMail(to=(to,), subject="Hello", body="Hello\n"), utc(clock.now()))


def fill(engine, table, clock):
    """One message retrying, one given up, one delivered, one not tried yet."""
    write(engine, table, "retrying@example.test", clock)
    OutboxDispatcher(engine, table, Down(), "b@example.test", clock=clock).dispatch_once()
    clock.advance(1)
    write(engine, table, "given-up@example.test", clock)
    OutboxDispatcher(engine, table, Down(), "b@example.test", clock=clock, give_up_after=0).dispatch_once()
    clock.advance(0.5)
    write(engine, table, "sent@example.test", clock)
    OutboxDispatcher(engine, table, Up(), "b@example.test", clock=clock).dispatch_once()
    write(engine, table, "new@example.test", clock)


def test_the_operator_view_counts_what_waits_how_long_the_oldest_has_waited_and_what_was_given_up(db):
    engine, table = db
    clock = FakeClock(START)
    dispatcher = OutboxDispatcher(engine, table, Up(), "b@example.test", clock=clock)
    assert dispatcher.status() == OutboxStatus(waiting=0, retrying=0, oldest_waiting_seconds=None, given_up=0)

    fill(engine, table, clock)
    clock.t = START + 100

    assert dispatcher.status() == OutboxStatus(waiting=2, retrying=1, oldest_waiting_seconds=100.0, given_up=1)


def test_the_dispatcher_logs_the_operator_view_as_one_structured_line(db, capsys):
    engine, table = db
    clock = FakeClock(START)
    fill(engine, table, clock)
    clock.t = START + 100
    dispatcher = OutboxDispatcher(engine, table, Down(), "b@example.test", clock=clock, status_interval=60)
    capsys.readouterr()

    stop = dispatcher.start_thread(interval=0.01)
    try:
        deadline = time.monotonic() + 20
        out = ""
        while "outbox status" not in out and time.monotonic() < deadline:
            time.sleep(0.02)
            out += capsys.readouterr().out
    finally:
        stop.set()
        dispatcher.stop_thread()

    [line] = [ln for ln in out.splitlines() if "outbox status" in ln]
    # A warning: messages wait after failing (the poll before the line failed the new one too),
    # and one was given up.
    assert "warning" in line
    for field in ("waiting=2", "retrying=2", "oldest_waiting_seconds=100.0", "given_up=1"):
        assert field in line


def test_the_status_line_warns_about_a_given_up_message_once_not_every_time(db, capsys):
    engine, table = db
    clock = FakeClock(START)
    write(engine, table, "given-up@example.test", clock)
    dispatcher = OutboxDispatcher(engine, table, Down(), "b@example.test", clock=clock, give_up_after=0)
    dispatcher.dispatch_once()
    capsys.readouterr()

    dispatcher.log_status()
    dispatcher.log_status()

    lines = [ln for ln in capsys.readouterr().out.splitlines() if "outbox status" in ln]
    assert len(lines) == 2 and "warning" in lines[0] and "info" in lines[1]
    assert all("given_up=1" in ln and "waiting=0" in ln for ln in lines)
