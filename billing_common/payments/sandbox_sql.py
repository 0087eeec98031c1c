"""The sandbox gateway's store in SQL (SQLAlchemy Core): one table in a database of its own.

Why SQL and not Redis: a charge must still be there when the reconciler asks days later, after
any restart (the embedded Redis keeps nothing on disk), and the one guarantee needed, "the first
insert under a key wins", is a primary key. Every process of a deployment points
SANDBOX_GATEWAY_DATABASE_URL at the same database (by default a SQLite file under var/data/,
which several local processes share in WAL mode; PostgreSQL for several hosts).

The sandbox stands for a gateway outside our system, so its table is not part of any service's
migrations: `create_schema` makes it if it is missing, safely from several processes at once.
"""
from __future__ import annotations

import datetime as dt
import json

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
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

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


class SqlChargeStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(charges).values(_row(record)))
            return record, True
        except IntegrityError:
            pass  # the key is taken: answer what was stored first
        except DBAPIError as error:
            raise StoreUnavailable(str(error.orig)) from error
        stored = self.get(record.idempotency_key)
        if stored is None:  # only if someone deleted it in between
            raise StoreUnavailable("the charge stored under this key disappeared")
        return stored, False

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
