"""The sandbox gateway's store in SQL (SQLAlchemy Core): one table in a database of its own.

Why SQL and not Redis: a charge must still be there when the reconciler asks days later, after
any restart (the embedded Redis keeps nothing on disk), and the one guarantee needed, "the first
insert under a key wins", is a primary key. Every process of a deployment points
SANDBOX_GATEWAY_DATABASE_URL at the same database (by default a SQLite file under var/data/,
which several local processes share in WAL mode; PostgreSQL for several hosts).

The sandbox stands for a gateway outside our system, so its table is not part of any service's
migrations: `create_schema` makes it if it is missing, safely from several processes at once.

Charges made at the same moment in one process share a transaction (group commit): the first
caller to find no write under way writes every record waiting, in one `INSERT ... ON CONFLICT
DO NOTHING RETURNING` and one commit, and answers each caller; the others wait for their
answer meanwhile. A caller is answered only after its record committed, so what a caller was
told is what any process will later read under the key (S19, S20). The billing run makes a
charge per renewal, a few at a time: one transaction each was most of its cost (README,
"Performance").
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    MetaData,
    RowMapping,
    String,
    Table,
    Text,
    inspect,
    select,
)
from sqlalchemy.exc import DBAPIError

from billing_common.bulk import among, insert_rows
from billing_common.db import NAMING, aware_utc, make_engine, to_utc
from billing_common.money import Money
from billing_common.payments.gateway import ChargeStatus
from billing_common.payments.sandbox import ChargeRecord, StoreUnavailable

metadata = MetaData(naming_convention=NAMING)

charges = Table(
    "sandbox_gateway_charges",
    metadata,
    Column("idempotency_key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("charge_id", String(40), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("decline_code", String(32)),
    Column("brand", String(16), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("description", String(500), nullable=False),
    Column("metadata", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


# Records written in one statement at most (PostgreSQL takes 65,535 parameters; 12 a record).
_GROUP = 1000


@dataclass(eq=False)
class _Waiting:
    """One caller's record, waiting for the group it is written in."""

    record: ChargeRecord
    done: threading.Event = field(default_factory=threading.Event)
    answer: tuple[ChargeRecord, bool] | None = None
    error: StoreUnavailable | None = None
    lead: bool = False  # this caller writes the next group


class SqlChargeStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._writing = False  # a caller is writing groups: the others wait for their answer

    @classmethod
    def from_url(cls, url: str) -> SqlChargeStore:
        store = cls(make_engine(url))
        store.create_schema()
        return store

    def create_schema(self) -> None:
        """Creates the table if it is missing. Two processes starting at once may both try; the
        loser's error is harmless once the table exists."""
        try:
            metadata.create_all(self.engine, checkfirst=True)
        except DBAPIError:
            if not inspect(self.engine).has_table(charges.name):
                raise

    def add(self, record: ChargeRecord) -> tuple[ChargeRecord, bool]:
        waiting = _Waiting(record)
        with self._lock:
            self._queue.append(waiting)
            if not self._writing:
                self._writing = waiting.lead = True
        if not waiting.lead:
            waiting.done.wait()  # answered by the writer of its group, or made the next writer
        if waiting.lead:
            self._write_group()
        if waiting.error is not None:
            raise waiting.error
        assert waiting.answer is not None
        return waiting.answer

    def _write_group(self) -> None:
        """Writes every record waiting (the writer's own among them), answers their callers,
        then makes the first caller that came meanwhile the next writer: each writer writes one
        group and returns, so no caller writes for others for long."""
        with self._lock:
            group, self._queue = self._queue[:_GROUP], self._queue[_GROUP:]
        try:
            answers: list[tuple[ChargeRecord, bool]] | StoreUnavailable = self._insert([w.record for w in group])
        except StoreUnavailable as error:
            answers = error
        except Exception as error:  # a bug: each caller sees it, and nobody waits forever
            answers = StoreUnavailable(f"sandbox store write failed: {error!r}")
        for i, w in enumerate(group):
            w.lead = False
            if isinstance(answers, StoreUnavailable):
                w.error = answers
            else:
                w.answer = answers[i]
            w.done.set()
        with self._lock:
            if self._queue:
                self._queue[0].lead = True
                self._queue[0].done.set()
            else:
                self._writing = False

    def _insert(self, records: Sequence[ChargeRecord]) -> list[tuple[ChargeRecord, bool]]:
        """Stores each record whose key is free (the first of a group under one key), in one
        transaction; answers, in order, the record stored under each key and whether it is
        this one."""
        first: dict[str, ChargeRecord] = {}
        for r in records:
            first.setdefault(r.idempotency_key, r)
        try:
            with self.engine.begin() as connection:
                inserted = set(insert_rows(connection, charges, [_row(r) for r in first.values()],
                                           skip_conflicts_on="idempotency_key", returning="idempotency_key"))
                taken = [key for key in first if key not in inserted]
                stored = {key: first[key] for key in inserted}
                if taken:  # stored earlier (or by another process meanwhile: it committed, we waited)
                    stored.update((row["idempotency_key"], _record(row)) for row in connection.execute(
                        select(charges).where(among(connection, charges.c.idempotency_key, taken))).mappings())
        except DBAPIError as error:
            raise StoreUnavailable(str(error.orig)) from error
        missing = [key for key in first if key not in stored]
        if missing:  # only if someone deleted them in between
            raise StoreUnavailable("the charge stored under this key disappeared")
        return [(stored[r.idempotency_key], r is first[r.idempotency_key] and r.idempotency_key in inserted)
                for r in records]

    def get(self, idempotency_key: str) -> ChargeRecord | None:
        try:
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(charges).where(charges.c.idempotency_key == idempotency_key)
                ).mappings().first()
        except DBAPIError as error:
            raise StoreUnavailable(str(error.orig)) from error
        return None if row is None else _record(row)

    def close(self) -> None:
        self.engine.dispose()


def _row(record: ChargeRecord) -> dict[str, object]:
    return {
        "idempotency_key": record.idempotency_key,
        "request_hash": record.request_hash,
        "charge_id": record.charge_id,
        "status": record.status.value,
        "amount_minor": record.amount.amount_minor,
        "currency": record.amount.currency,
        "decline_code": record.decline_code,
        "brand": record.brand,
        "last4": record.last4,
        "description": record.description,
        "metadata": json.dumps(record.metadata, sort_keys=True, ensure_ascii=False),
        "created_at": to_utc(dt.datetime.fromtimestamp(record.created_at, tz=dt.UTC)),
    }


def _record(row: RowMapping) -> ChargeRecord:
    get = row.__getitem__
    return ChargeRecord(
        idempotency_key=get("idempotency_key"),
        request_hash=get("request_hash"),
        charge_id=get("charge_id"),
        status=ChargeStatus(get("status")),
        amount=Money(get("amount_minor"), get("currency")),
        decline_code=get("decline_code"),
        brand=get("brand"),
        last4=get("last4"),
        description=get("description"),
        metadata=json.loads(get("metadata")),
        created_at=aware_utc(get("created_at")).timestamp(),
    )
