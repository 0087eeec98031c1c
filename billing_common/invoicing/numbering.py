"""Gapless invoice numbers: one counter row per series, moved on inside the finalizing transaction.

A number reads `<series>-<counter>`, the counter zero-padded to six digits and growing past
them rather than wrapping: "BC-2026-000123". The series is the caller's prefix, upper-case
letters and digits in up to three parts joined by hyphens; `yearly_series("BC", 2026)` gives
"BC-2026", so a service that wants numbering to start again each year names a series per
year, and one that does not uses a fixed series ("EBP").

Why not a database sequence: a sequence hands out a value and never takes it back, so every
rolled-back finalization (a declined charge, a crash) would leave a hole in the numbering,
which tax authorities read as a missing invoice. Here the counter is an ordinary row: the
statement that moves it on takes the row's lock (the lock SELECT ... FOR UPDATE would take)
and keeps it until the finalizing transaction ends. If that transaction commits, the number
is used; if it rolls back, so does the counter, and the next finalization gets the same
number. Finalizations of one series therefore take turns (each waits at this row for the one
before to commit or roll back); other series are not held up.

It is one statement, `INSERT ... ON CONFLICT (series) DO UPDATE SET last_number = last_number
+ 1 RETURNING last_number`, not a SELECT followed by an UPDATE: it creates a series' row the
first time without a race between two first finalizations, and on SQLite a write as the
first statement takes the database's write lock at once (waiting out `busy_timeout`), where a
read first would have to upgrade its lock later and could fail. PostgreSQL must run the
transaction at READ COMMITTED (the default): at REPEATABLE READ the second of two concurrent
finalizations fails with a serialization error instead of waiting.
"""
from __future__ import annotations

import re

from sqlalchemy import BigInteger, CheckConstraint, Column, Connection, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite

from billing_common.errors import InvalidArgument

TABLE_NAME = "invoice_number_series"
# Digits the counter is padded to; numbers past 999999 simply get longer.
COUNTER_WIDTH = 6
MAX_SERIES = 32
SERIES = re.compile(r"[A-Z0-9]{1,12}(-[A-Z0-9]{1,12}){0,2}")


def invoice_number_table(metadata: MetaData) -> Table:
    """Each service declares the counter table in its own metadata (and its own migration),
    as it does the outbox (billing_common.outbox.outbox_table)."""
    return Table(
        TABLE_NAME,
        metadata,
        Column("series", String(MAX_SERIES), primary_key=True),
        Column("last_number", BigInteger, nullable=False),
        CheckConstraint("last_number > 0", name="last_number_positive"),
    )


# Only to build the statement: the columns are the same in every service's copy of the table.
_counters = invoice_number_table(MetaData())


def require_series(series: str) -> str:
    """`series` when it can prefix invoice numbers, else InvalidArgument naming `series`."""
    if not isinstance(series, str) or len(series) > MAX_SERIES or not SERIES.fullmatch(series):
        raise InvalidArgument(
            "series must be upper-case letters and digits in up to three parts joined by hyphens",
            field="series",
        )
    return series


def yearly_series(prefix: str, year: int) -> str:
    """The series of one prefix for one calendar year: yearly_series("BC", 2026) == "BC-2026"."""
    if not 1 <= year <= 9999:
        raise InvalidArgument("year must be between 1 and 9999", field="year")
    return require_series(f"{prefix}-{year:04d}")


def format_number(series: str, counter: int) -> str:
    """format_number("BC-2026", 123) == "BC-2026-000123"."""
    return f"{series}-{counter:0{COUNTER_WIDTH}d}"


def next_numbers(conn: Connection, series: str, count: int) -> list[str]:
    """`count` consecutive numbers of `series` in one statement (a batch of invoices finalized
    in one transaction), under the same rules as `next_number`."""
    if count <= 0:
        return []
    last = int(next_number(conn, series, step=count).rsplit("-", 1)[1])
    return [format_number(series, n) for n in range(last - count + 1, last + 1)]


def next_number(conn: Connection, series: str, *, step: int = 1) -> str:
    """The next number of `series`, taken in `conn`'s transaction: call it in the transaction
    that finalizes the invoice and stores the number on it, so the number is used exactly when
    that transaction commits. The series' counter row stays locked until then. With `step`, it
    takes that many numbers at once and answers the last of them (next_numbers)."""
    require_series(series)
    dialect = conn.dialect.name
    if dialect == "postgresql":
        upsert = postgresql.insert(_counters)
    elif dialect == "sqlite":
        upsert = sqlite.insert(_counters)  # type: ignore[assignment]
    else:  # pragma: no cover - the services run on PostgreSQL or SQLite only
        raise NotImplementedError(f"gapless numbering is not written for {dialect}")
    statement = (
        upsert.values(series=series, last_number=step)
        .on_conflict_do_update(
            index_elements=[_counters.c.series],
            set_={"last_number": _counters.c.last_number + step},
        )
        .returning(_counters.c.last_number)
    )
    counter = conn.execute(statement).scalar_one()
    return format_number(series, int(counter))
