"""The transactional mail outbox (ARCHITECTURE.md, "Mail").

A use case writes its message to its service's `outbox` table in the same transaction as the
change that caused it; the dispatcher delivers it later. The message's id is made once, when it
is written, and every attempt sends the same Message-ID header, so a receiver can tell a resend.

Delivery never happens inside a database transaction: the dispatcher claims a batch of due
messages in one short transaction (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, so any
number of dispatchers share the table; SQLite serialises the claim's UPDATE), commits, talks
to the mail server, then records each outcome in a short transaction of its own. A claim is a
lease: claiming counts the attempt and moves the message's next_attempt_at to the end of the
lease, so the message of a dispatcher that died while holding it becomes due again when the
lease ends. At most that one message can be sent twice (the one whose delivery was not yet
recorded), and it carries the same Message-ID both times.

A failed attempt is retried with exponential backoff (2 s, 4 s, 8 s, ... capped at
`max_delay`, 5 minutes by default) until the message has been waiting `give_up_after` (24 hours
by default); the first failure after that gives it up. The body is kept until the message is
delivered or given up, then blanked: it may hold a reset link, which has no business staying in
the database in clear (S6 keeps tokens only as hashes).

A service may extend its table (`outbox_table(..., extended=True)`) with two references the
dispatcher resolves when it sends, outside any transaction, through hooks the service gives it:
- `attachment`: the `attachments` hook turns it into files (online_billing: "invoice:<account>:
  <id>" -> the invoice's PDF), so the transaction that wrote the mail (a billing run's batch of
  thousands) renders nothing;
- `deferred`: a mail written before its recipients were known (identity was down); the
  `expand` hook turns it into the concrete mails (their addresses and language), which are
  written in its place in one transaction and sent by the next poll.
A hook that fails (the database or identity down) fails that attempt: it is retried with the
same backoff as a relay that refused the message.

Its times are aware UTC datetimes, like every other stored time (billing_common.db.to_utc /
aware_utc). The dispatcher keeps the injected clock's epoch seconds and converts them here.
"""
from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

import structlog
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    and_,
    bindparam,
    func,
    insert,
    select,
    update,
)

from billing_common.bulk import insert_rows
from billing_common.clock import Clock, SystemClock, utc
from billing_common.db import aware_utc, to_utc
from billing_common.mail import MailTransport

log = structlog.get_logger()

# Defaults of the retry schedule and the claim (MailSettings carries the configured ones).
FIRST_DELAY = 2.0
MAX_DELAY = 5 * 60.0
GIVE_UP_AFTER = 24 * 60 * 60.0
CLAIM_LEASE = 10 * 60.0
STATUS_INTERVAL = 60.0


def outbox_table(metadata: MetaData, *, extended: bool = False) -> Table:
    """Each service declares the same table in its own metadata (and its own migration);
    `extended` adds the `attachment` and `deferred` references (see the module's docstring)."""
    extra = [Column("attachment", String(300)), Column("deferred", Text)] if extended else []
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
        *extra,
    )


@dataclass(frozen=True)
class OutgoingMail:
    to: tuple[str, ...]
    subject: str
    body: str
    reply_to: str | None = None
    # Resolved when sent, by the service's hooks (extended tables only; see the module's docstring).
    attachment: str | None = None
    deferred: str | None = None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "application/pdf"
    content: bytes = field(repr=False)


# The hooks' shapes: a reference -> its files; deferred mails' data -> the mails for each.
AttachmentResolver = Callable[[str], Sequence[Attachment]]
Expander = Callable[[Sequence[str]], Sequence[Sequence[OutgoingMail]]]


def _row(table: Table, mail: OutgoingMail, message_id: str, now: dt.datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "message_id": message_id, "to_addrs": ", ".join(mail.to), "reply_to": mail.reply_to,
        "subject": mail.subject, "body": mail.body, "created_at": now, "attempts": 0, "next_attempt_at": now}
    if "attachment" in table.c:
        values.update(attachment=mail.attachment, deferred=mail.deferred)
    elif mail.attachment or mail.deferred:
        raise ValueError("this outbox table keeps no attachment or deferred mail (outbox_table(extended=True))")
    return values


def enqueue(conn: Connection, table: Table, mail: OutgoingMail, now: dt.datetime) -> str:
    """Write the message in the caller's transaction, due at once; returns its id.
    `now` must be aware (billing_common.clock.utc of the clock's epoch seconds)."""
    message_id = str(uuid.uuid4())
    conn.execute(insert(table).values(**_row(table, mail, message_id, to_utc(now))))
    return message_id


def enqueue_many(conn: Connection, table: Table, mails: Sequence[OutgoingMail], now: dt.datetime) -> None:
    """`enqueue` for several messages in one statement (a batch of the billing run's mails)."""
    if not mails:
        return
    now = to_utc(now)
    insert_rows(conn, table, [_row(table, m, str(uuid.uuid4()), now) for m in mails])


def retry_delay(attempts: int, max_delay: float = MAX_DELAY) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: 2, 4, 8, ... at most `max_delay`."""
    return float(min(FIRST_DELAY * 2.0 ** min(max(attempts - 1, 0), 32), max_delay))


def message_id_header(message_id: str, sender: str) -> str:
    """The Message-ID header of a stored message: its id, made when it was written, at the
    sender's domain. The same on every attempt, so a receiver can tell a resend."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<{message_id}@{domain}>"


@dataclass(frozen=True)
class OutboxStatus:
    """The operator's view of one service's outbox."""

    waiting: int  # neither delivered nor given up (due, backing off, or being sent)
    retrying: int  # of those, the ones that failed at least once
    oldest_waiting_seconds: float | None  # age of the oldest waiting message; None when none waits
    given_up: int  # messages given up on, ever (their bodies are blank)

    def as_fields(self) -> dict[str, Any]:
        oldest = None if self.oldest_waiting_seconds is None else round(self.oldest_waiting_seconds, 1)
        return {"waiting": self.waiting, "retrying": self.retrying, "oldest_waiting_seconds": oldest,
                "given_up": self.given_up}


def outbox_status(engine: Engine, table: Table, now: dt.datetime) -> OutboxStatus:
    """Counts for the operator: what waits, how long the oldest has waited, what was given up."""
    t = table
    waiting = and_(t.c.sent_at.is_(None), t.c.failed_at.is_(None))
    with engine.connect() as conn:
        row = conn.execute(
            select(func.count(), func.count(t.c.last_error), func.min(t.c.created_at)).where(waiting)
        ).one()
        given_up = conn.execute(select(func.count()).where(t.c.failed_at.is_not(None))).scalar_one()
    oldest = None if row[2] is None else max(0.0, (to_utc(now) - aware_utc(row[2])).total_seconds())
    return OutboxStatus(waiting=row[0], retrying=row[1], oldest_waiting_seconds=oldest, given_up=given_up)


class OutboxDispatcher:
    """Delivers one service's outbox through `transport` (see the module's docstring).

    `lease` must be well above the time one batch can take to send (each message at most the
    transport's timeouts); a batch that runs past half of it hands its unsent messages back.
    """

    def __init__(
        self,
        engine: Engine,
        table: Table,
        transport: MailTransport,
        sender: str,
        clock: Clock | None = None,
        batch: int = 20,
        *,
        max_delay: float = MAX_DELAY,
        give_up_after: float = GIVE_UP_AFTER,
        lease: float = CLAIM_LEASE,
        status_interval: float = STATUS_INTERVAL,
        attachments: AttachmentResolver | None = None,
        expand: Expander | None = None,
    ) -> None:
        self.attachments = attachments
        self.expand = expand
        self.engine = engine
        self.table = table
        self.transport = transport
        self.sender = sender
        self.clock = clock or SystemClock()
        self.batch = batch
        self.max_delay = max_delay
        self.give_up_after = dt.timedelta(seconds=give_up_after)
        self.lease = lease
        self.status_interval = status_interval
        self._last_status: float | None = None
        self._stopping = threading.Event()
        self._given_up_seen = 0

    def _due(self, now: dt.datetime) -> ColumnElement[bool]:
        t = self.table
        return and_(t.c.sent_at.is_(None), t.c.failed_at.is_(None), t.c.next_attempt_at <= now)

    def dispatch_once(self) -> int:
        """Deliver what is due (one batch); returns how many were sent."""
        started = self.clock.now()
        claimed = self._claim(started)
        sent = 0
        deferred = [row for row in claimed if getattr(row, "deferred", None)]
        if deferred:
            self._expand(deferred)
        untried = [row for row in claimed if not getattr(row, "deferred", None)]
        try:
            while untried:
                if self.clock.now() - started > self.lease / 2 or self._stopping.is_set():
                    # Running late (a slow relay): what is left goes back before the lease
                    # ends, so another dispatcher cannot send it while this one does. Shutting
                    # down: it goes back now rather than wait out the lease.
                    break
                row = untried.pop(0)
                try:
                    self.transport.send(self._message(row))
                except Exception as exc:  # any transport failure is retried later
                    self._record_failure(row, exc)
                else:
                    self._record_delivery(row)
                    sent += 1
        finally:
            # Also after a failed write of an outcome (database down): the messages not tried
            # are handed back if possible; the one in doubt waits for its lease to end.
            if untried:
                self._hand_back(untried)
        return sent

    def _expand(self, rows: Sequence[Row[Any]]) -> None:
        """Deferred mails: their concrete mails are written in their place (due at once), or
        the attempt fails (the expander's dependency is down) and is retried later."""
        try:
            if self.expand is None:
                raise RuntimeError("this outbox has deferred mails but no expander")
            expanded = self.expand([row.deferred for row in rows])
            now = utc(self.clock.now())
            with self.engine.begin() as conn:
                for row, mails in zip(rows, expanded, strict=True):
                    done = conn.execute(update(self.table).where(self._mine(row)).values(
                        sent_at=now, body="", deferred=None)).rowcount
                    if done:
                        enqueue_many(conn, self.table, mails, now)
            log.info("deferred mails addressed", count=len(rows), mails=sum(len(m) for m in expanded))
        except Exception as exc:
            for row in rows:
                try:
                    self._record_failure(row, exc)
                except Exception:
                    log.warning("outbox could not record a failed expansion", message_id=row.message_id,
                                exc_info=True)

    def _claim(self, at: float) -> list[Row[Any]]:
        t = self.table
        now = utc(at)
        due = select(t.c.id).where(self._due(now)).order_by(t.c.id).limit(self.batch).with_for_update(
            skip_locked=True)
        claim = (
            update(t)
            .where(t.c.id.in_(due), self._due(now))
            .values(attempts=t.c.attempts + 1, next_attempt_at=now + dt.timedelta(seconds=self.lease))
            .returning(*t.c)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(claim).all()
        return sorted(rows, key=lambda row: row.id)

    def _mine(self, row: Row[Any]) -> ColumnElement[bool]:
        """Still this claim's: not delivered, not given up, and not claimed again since (a claim
        counts an attempt, so the attempt count is the claim's version)."""
        t = self.table
        return and_(t.c.id == row.id, t.c.attempts == row.attempts, t.c.sent_at.is_(None),
                    t.c.failed_at.is_(None))

    def _record_delivery(self, row: Row[Any]) -> None:
        now = utc(self.clock.now())
        with self.engine.begin() as conn:
            done = conn.execute(update(self.table).where(self._mine(row)).values(sent_at=now, body="")).rowcount
        if done:
            log.info("mail sent", message_id=row.message_id, attempts=row.attempts)
        else:
            log.warning("mail sent after its claim ran out; it may have been sent twice", message_id=row.message_id)

    def _record_failure(self, row: Row[Any], exc: Exception) -> None:
        now = utc(self.clock.now())
        values: dict[str, Any] = {"last_error": repr(exc)[:500]}
        give_up = now - aware_utc(row.created_at) >= self.give_up_after
        if give_up:
            values.update(failed_at=now, body="")
        else:
            values["next_attempt_at"] = now + dt.timedelta(seconds=retry_delay(row.attempts, self.max_delay))
        with self.engine.begin() as conn:
            conn.execute(update(self.table).where(self._mine(row)).values(**values))
        if give_up:
            log.error("mail given up", message_id=row.message_id, attempts=row.attempts, error=values["last_error"])
        else:
            log.warning("mail delivery failed, will retry", message_id=row.message_id, attempts=row.attempts,
                        retry_in=retry_delay(row.attempts, self.max_delay), error=values["last_error"])

    def _hand_back(self, rows: Sequence[Row[Any]]) -> None:
        """Claimed but not tried: due again at once, the attempt not counted."""
        t = self.table
        now = utc(self.clock.now())
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(t)
                    .where(t.c.id == bindparam("claimed_id"), t.c.attempts == bindparam("claimed_attempts"),
                           t.c.sent_at.is_(None), t.c.failed_at.is_(None))
                    .values(attempts=t.c.attempts - 1, next_attempt_at=now),
                    [{"claimed_id": row.id, "claimed_attempts": row.attempts} for row in rows],
                )
        except Exception:
            log.warning("outbox could not hand back its claim; the messages wait for the lease to end",
                        count=len(rows), exc_info=True)

    def _message(self, row: Row[Any]) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = row.to_addrs
        if row.reply_to:
            msg["Reply-To"] = row.reply_to
        msg["Subject"] = row.subject
        msg["Date"] = formatdate(aware_utc(row.created_at).timestamp(), localtime=False)
        msg["Message-ID"] = message_id_header(row.message_id, self.sender)
        msg.set_content(row.body)
        reference = getattr(row, "attachment", None)
        if reference:
            if self.attachments is None:
                raise RuntimeError("this outbox has attachments but no resolver")
            for item in self.attachments(reference):
                maintype, _, subtype = item.content_type.partition("/")
                msg.add_attachment(item.content, maintype=maintype, subtype=subtype, filename=item.filename)
        return msg

    def status(self) -> OutboxStatus:
        """The operator's view now (billing_common.outbox.outbox_status)."""
        return outbox_status(self.engine, self.table, utc(self.clock.now()))

    def log_status(self) -> OutboxStatus:
        """One structured line with the operator's view ("outbox status"): a warning while any
        message waits after a failure, or when messages were given up since the last line (the
        first line since the start counts every one), else info."""
        figures = self.status()
        warn = figures.retrying or figures.given_up > self._given_up_seen
        self._given_up_seen = figures.given_up
        (log.warning if warn else log.info)("outbox status", **figures.as_fields())
        return figures

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Poll until `stop` is set, logging the operator's view every `status_interval`
        seconds; a failing poll (database down) is logged, not fatal. Once `stop` is set, the
        poll in progress finishes the message it is sending and hands the rest of its batch back."""
        self._stopping = stop
        while not stop.is_set():
            try:
                self.dispatch_once()
                now = self.clock.now()
                if self._last_status is None or now - self._last_status >= self.status_interval:
                    self._last_status = now
                    self.log_status()
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
