"""billing_common.bulk against a real database (SQLite file, or PostgreSQL with TEST_DATABASE_URL):
rows in, rows updated, sets and pairs found, whatever the number of rows and with NULLs, odd
characters and every column type the services use."""
import datetime as dt
import threading

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)

from billing_common.bulk import among, insert_rows, pairs_among, update_rows
from billing_common.db import aware_utc, make_engine
from billing_common.money import Money
from billing_common.payments.gateway import ChargeStatus
from billing_common.payments.sandbox import ChargeRecord
from billing_common.payments.sandbox_sql import SqlChargeStore

metadata = MetaData()
things = Table(
    "bulk_things", metadata,
    Column("id", String(36), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("key", String(255), nullable=False),
    Column("interval", String(16), nullable=True),  # a keyword as a column name
    Column("seats", Integer, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=True),
    Column("doc", Text, nullable=False),
    UniqueConstraint("owner", "key"),
)
AT = dt.datetime(2026, 12, 1, 12, 30, tzinfo=dt.UTC)
ODD = 'quotes " and \\ backslash, {braces}, commas, NULL, émoji 🎉, tab\tnewline\n'


@pytest.fixture(scope="module")
def engine(database_url):
    engine = make_engine(database_url("bulk"))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def row(i: int, **changes: object) -> dict[str, object]:
    return {"id": f"id-{i:05d}", "owner": f"owner-{i % 7}", "key": f"key-{i}", "interval": None if i % 3 else "monthly",
            "seats": i, "amount_minor": 10**12 + i, "active": bool(i % 2), "at": None if i % 5 == 0 else AT,
            "doc": f"{i}: {ODD}", **changes}


def read(engine, ids):
    with engine.connect() as conn:
        found = conn.execute(select(things).where(things.c.id.in_(ids)).order_by(things.c.id)).mappings()
        return [{**r, "at": aware_utc(r["at"]) if r["at"] else None} for r in found]


@pytest.mark.parametrize("n", [1, 3, 1200])
def test_rows_inserted_and_updated_as_they_were_given(engine, n, unique):
    prefix = unique("n")
    rows = [row(i, id=f"{prefix}-{i:05d}", key=f"{prefix}-{i}") for i in range(n)]
    with engine.begin() as conn:
        assert insert_rows(conn, things, rows) == []
    assert read(engine, [r["id"] for r in rows]) == rows
    changed = [{"id": r["id"], "seats": r["seats"] + 1, "at": None if r["at"] else AT, "doc": ODD} for r in rows]
    with engine.begin() as conn:
        update_rows(conn, things, "id", changed)
    assert read(engine, [r["id"] for r in rows]) == [{**r, **c} for r, c in zip(rows, changed, strict=True)]


def test_conflicts_are_skipped_and_the_inserted_keys_answered(engine, unique):
    prefix = unique("c")
    with engine.begin() as conn:
        insert_rows(conn, things, [row(1, id=f"{prefix}-1", key=f"{prefix}-1")])
    with engine.begin() as conn:
        inserted = insert_rows(conn, things, [row(1, id=f"{prefix}-1", key="other", seats=99),
                                              row(2, id=f"{prefix}-2", key=f"{prefix}-2")],
                               skip_conflicts_on="id", returning="id")
    assert inserted == [f"{prefix}-2"]
    assert [r["seats"] for r in read(engine, [f"{prefix}-1", f"{prefix}-2"])] == [1, 2]  # the first kept


def test_sets_and_pairs_find_exactly_their_rows(engine, unique):
    prefix = unique("s")
    rows = [row(i, id=f"{prefix}-{i}", owner=f"{prefix}-o{i % 3}", key=f"k{i}") for i in range(30)]
    with engine.begin() as conn:
        insert_rows(conn, things, rows)
        ids = [f"{prefix}-{i}" for i in (0, 7, 29)] + ["missing"]
        assert sorted(r.id for r in conn.execute(select(things.c.id).where(among(conn, things.c.id, ids)))) == \
            sorted(ids[:3])
        # (o1, k1) and (o2, k2) are rows; (o1, k2) pairs one's owner with another's key: not a row.
        pairs = [(f"{prefix}-o1", "k1"), (f"{prefix}-o2", "k2"), (f"{prefix}-o1", "k2")]
        found = conn.execute(select(things.c.owner, things.c.key).where(
            pairs_among(conn, things.c.owner, things.c.key, pairs)))
        assert sorted(tuple(r) for r in found) == sorted(pairs[:2])


def record(key: str, n: int) -> ChargeRecord:
    return ChargeRecord(idempotency_key=key, request_hash="h" * 64, charge_id=f"ch_{key}_{n}",
                        status=ChargeStatus.SUCCEEDED, amount=Money(4900, "USD"), decline_code=None, brand="visa",
                        last4="4242", description=ODD, metadata={"n": str(n)}, created_at=AT.timestamp())


def test_the_sandbox_store_writes_charges_of_many_threads_in_groups_first_insert_wins(database_url, unique):
    """Group commit (S19): 40 threads, 10 keys; each key is stored once, and every caller of a
    key is answered with the record stored first, whichever group it was written in."""
    store = SqlChargeStore.from_url(database_url("sandbox_groups"))
    keys = [unique("key") for _ in range(10)]
    answers: list[tuple[str, ChargeRecord, bool]] = []
    lock = threading.Lock()
    start = threading.Barrier(40)

    def charge(n: int) -> None:
        key = keys[n % 10]
        start.wait()
        stored, created = store.add(record(key, n))
        with lock:
            answers.append((key, stored, created))

    threads = [threading.Thread(target=charge, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert len(answers) == 40
        for key in keys:
            mine = [(stored, created) for k, stored, created in answers if k == key]
            assert sum(created for _, created in mine) == 1
            assert {stored.charge_id for stored, _ in mine} == {store.get(key).charge_id}  # type: ignore[union-attr]
    finally:
        store.close()
