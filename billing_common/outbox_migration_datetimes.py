"""One migration step every service's outbox takes: its times from float epochs to UTC datetimes.

Called by identity's 0003_outbox_datetimes and by online_billing's and enterprise_portal's
0002_outbox_datetimes: the outbox (billing_common.outbox) is the same table in all three
databases, so the step is written once. It is history, like the migrations that call it: it
imports nothing from the application and is never changed; a later change to the outbox gets a
new step of its own.

It converts created_at, next_attempt_at, sent_at and failed_at to the same instants as aware
UTC datetimes; NULLs (not sent yet, not failed) stay NULL. PostgreSQL converts in place
(`to_timestamp`). SQLite cannot alter a column's type, so the table is rebuilt (Alembic's batch
mode) and the copied epochs are then rewritten as datetimes.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

# billing_common.db.NAMING as of these migrations, written out so that a later change of the
# convention cannot change what they did (it would get a migration of its own).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# column -> nullable
TIMES = {"created_at": False, "next_attempt_at": False, "sent_at": True, "failed_at": True}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(sa.Float(), sa.DateTime(timezone=True))
        _sqlite_rewrite(sa.Float(), sa.DateTime(timezone=True), _epoch_to_datetime)
    else:
        for column, nullable in TIMES.items():
            op.alter_column("outbox", column, type_=sa.DateTime(timezone=True), existing_type=sa.Float(),
                            existing_nullable=nullable, postgresql_using=f"to_timestamp({column})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rewrite(sa.DateTime(), sa.Float(), _datetime_to_epoch)
        _sqlite_rebuild(sa.DateTime(timezone=True), sa.Float())
    else:
        for column, nullable in TIMES.items():
            op.alter_column("outbox", column, type_=sa.Float(), existing_type=sa.DateTime(timezone=True),
                            existing_nullable=nullable, postgresql_using=f"extract(epoch from {column})")


def _epoch_to_datetime(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)


def _datetime_to_epoch(value: dt.datetime) -> float:
    # SQLite hands back naive datetimes; all that was stored is UTC.
    return value.replace(tzinfo=dt.UTC).timestamp()


def _sqlite_rebuild(old_type: sa.types.TypeEngine, new_type: sa.types.TypeEngine) -> None:
    """Recreate the table with the time columns' new type. The rows are copied as they are
    (SQLite keeps a REAL in a DATETIME column, and an ISO string in a FLOAT one)."""
    with op.batch_alter_table("outbox", recreate="always", naming_convention=NAMING) as batch:
        for column, nullable in TIMES.items():
            batch.alter_column(column, type_=new_type, existing_type=old_type, existing_nullable=nullable)


def _sqlite_rewrite(read_as: sa.types.TypeEngine, write_as: sa.types.TypeEngine,
                    convert: Callable[[Any], Any]) -> None:
    """Rewrites every time of every row with `convert`, read as `read_as` and written as
    `write_as` (SQLAlchemy's DateTime writes an ISO string on SQLite); NULL stays NULL."""
    conn = op.get_bind()
    source = sa.table("outbox", sa.column("id"), *(sa.column(c, read_as) for c in TIMES))
    target = sa.table("outbox", sa.column("id"), *(sa.column(c, write_as) for c in TIMES))
    rows = conn.execute(sa.select(source.c.id, *(source.c[c] for c in TIMES))).all()
    if not rows:
        return
    statement = (
        sa.update(target)
        .where(target.c.id == sa.bindparam("key_id"))
        .values({c: sa.bindparam(f"new_{c}") for c in TIMES})
    )
    conn.execute(statement, [
        {"key_id": row.id, **{f"new_{c}": None if row._mapping[c] is None else convert(row._mapping[c])
                              for c in TIMES}}
        for row in rows
    ])
