"""The transactional mail outbox (ARCHITECTURE.md, "Mail").

A use case writes its message to its service's `outbox` table in the same transaction as the
change that caused it; the dispatcher delivers it later, with retries and backoff. Rows are
claimed with SELECT ... FOR UPDATE SKIP LOCKED, so any number of dispatchers can share the
table on PostgreSQL (SQLite ignores the clause and relies on its single writer).

Its times are aware UTC datetimes, like every other stored time (billing_common.db.to_utc /
aware_utc). The dispatcher keeps the injected clock's epoch seconds and converts them here.
"""
from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import structlog
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from billing_common.clock import Clock, SystemClock, utc
from billing_common.db import aware_utc, to_utc
from billing_common.mail import MailTransport

log = structlog.get_logger()

MAX_ATTEMPTS = 8


def outbox_table(metadata: MetaData) -> Table:
    """Each service declares the same table in its own metadata (and its own migration)."""
    return Table(
        "outbox",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("message_id", String(64), nullable=False, unique=True),
        Column("to_addrs", Text, nullable=False),
        Column("reply_to", String(320)),
        Column("subject", String(300), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True)),
        Column("failed_at", DateTime(timezone=True)),
        Column("last_error", Text),
    )


@dataclass(frozen=True)
class OutgoingMail:
    to: tuple[str, ...]
    subject: str
    body: str
    reply_to: str | None = None


def enqueue(conn: Connection, table: Table, mail: OutgoingMail, now: dt.datetime) -> str:
    """Write the message in the caller's transaction, due at once; returns its id.
    `now` must be aware (billing_common.clock.utc of the clock's epoch seconds)."""
    message_id = str(uuid.uuid4())
    now = to_utc(now)
    conn.execute(
        insert(table).values(
            message_id=message_id,
            to_addrs=", ".join(mail.to),
            reply_to=mail.reply_to,
            subject=mail.subject,
            body=mail.body,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
    )
    return message_id


class OutboxDispatcher:
    def __init__(
        self,
        engine: Engine,
        table: Table,
        transport: MailTransport,
        sender: str,
        clock: Clock | None = None,
        batch: int = 20,
    ) -> None:
        self.engine = engine
        self.table = table
        self.transport = transport
        self.sender = sender
        self.clock = clock or SystemClock()
        self.batch = batch

    def dispatch_once(self) -> int:
        """Deliver what is due; returns how many were sent."""
        t = self.table
        now = utc(self.clock.now())
        sent = 0
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(t)
                .where(t.c.sent_at.is_(None), t.c.failed_at.is_(None), t.c.next_attempt_at <= now)
                .order_by(t.c.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                try:
                    self.transport.send(self._message(row))
                except Exception as exc:  # any transport failure is retried later
                    attempts = row.attempts + 1
                    values: dict[str, object] = {"attempts": attempts, "last_error": repr(exc)[:500]}
                    if attempts >= MAX_ATTEMPTS:
                        values["failed_at"] = now
                        values["body"] = ""
                        log.error("mail failed for good", message_id=row.message_id, attempts=attempts)
                    else:
                        values["next_attempt_at"] = now + dt.timedelta(seconds=min(2**attempts, 600))
                        log.warning("mail delivery failed, will retry", message_id=row.message_id, attempts=attempts)
                    conn.execute(update(t).where(t.c.id == row.id).values(**values))
                else:
                    # The body may hold a reset link: once delivered it has no business staying
                    # in the database in clear (S6 keeps tokens only as hashes).
                    conn.execute(
                        update(t).where(t.c.id == row.id).values(sent_at=now, attempts=row.attempts + 1, body="")
                    )
                    sent += 1
                    log.info("mail sent", message_id=row.message_id)
        return sent

    def _message(self, row: object) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = row.to_addrs  # type: ignore[attr-defined]
        if row.reply_to:  # type: ignore[attr-defined]
            msg["Reply-To"] = row.reply_to  # type: ignore[attr-defined]
        msg["Subject"] = row.subject  # type: ignore[attr-defined]
        msg["Date"] = formatdate(aware_utc(row.created_at).timestamp(), localtime=False)  # type: ignore[attr-defined]
        msg["Message-ID"] = make_msgid(idstring=row.message_id)  # type: ignore[attr-defined]
        msg.set_content(row.body)  # type: ignore[attr-defined]
        return msg

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Poll until `stop` is set; a failing poll (database down) is logged, not fatal."""
        while not stop.is_set():
            try:
                self.dispatch_once()
            except Exception:
                log.exception("outbox poll failed")
            stop.wait(interval)

    def start_thread(self, interval: float = 1.0) -> threading.Event:
        stop = threading.Event()
        self._thread = threading.Thread(target=self.run, args=(stop, interval), name="outbox", daemon=True)
        self._stop = stop
        self._thread.start()
        return stop

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop the polling thread and wait for its current poll to finish, so the engine
        can be disposed of without a connection still checked out (server shutdown)."""
        thread = getattr(self, "_thread", None)
        if thread is not None:
            self._stop.set()
            thread.join(timeout)
