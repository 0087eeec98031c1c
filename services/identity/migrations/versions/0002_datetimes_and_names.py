"""Times as UTC datetimes instead of float epochs, and the constraint names of the other services.

Revision ID: 0002_datetimes_and_names
Revises: 0001_initial
Create Date: 2026-12-01

0001 stored accounts.created_at, users.created_at, memberships.created_at,
rep_accounts.created_at and audit_log.at as float seconds since the epoch, and left its
constraints to the database to name. This converts every existing value to the same instant as
a timezone-aware UTC datetime and names the constraints by billing_common.db.NAMING, as
online_billing and enterprise_portal do.

PostgreSQL converts in place (`to_timestamp`) and renames the constraints. SQLite cannot alter
a column's type, so each table is rebuilt (Alembic's batch mode, which names the constraints as
it recreates them) and the copied epochs are then rewritten as datetimes; billing_common.db
runs migrations on SQLite with foreign key enforcement off, so rebuilding a parent table does
not cascade into its children. The mail outbox keeps its float columns: its table is the same in
all three services (billing_common.outbox).
"""
import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002_datetimes_and_names"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

# billing_common.db.NAMING as of this revision, written out so that a later change of the
# convention cannot change what this migration did (it would get a migration of its own).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# table -> (its time column, its primary key columns)
TIMES = {
    "accounts": ("created_at", ("id",)),
    "users": ("created_at", ("id",)),
    "memberships": ("created_at", ("user_id",)),
    "rep_accounts": ("created_at", ("rep_user_id", "account_id")),
    "audit_log": ("at", ("id",)),
}
# Parents before children (SQLite rebuilds them in this order); outbox only gets names.
TABLES = ("accounts", "users", "memberships", "rep_accounts", "audit_log", "outbox")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            _sqlite_rebuild(table, sa.Float(), sa.DateTime(timezone=True))
        for table, (column, key) in TIMES.items():
            _sqlite_rewrite(table, column, key, sa.Float(), sa.DateTime(timezone=True), _epoch_to_datetime)
    else:
        for table, (column, _key) in TIMES.items():
            op.alter_column(table, column, type_=sa.DateTime(timezone=True), existing_type=sa.Float(),
                            existing_nullable=False, postgresql_using=f"to_timestamp({column})")
        _rename_constraints()


def downgrade() -> None:
    # Constraint names stay as they are: 0001's code never refers to one.
    if op.get_bind().dialect.name == "sqlite":
        for table, (column, key) in TIMES.items():
            _sqlite_rewrite(table, column, key, sa.DateTime(), sa.Float(), _datetime_to_epoch)
        for table in TABLES:
            _sqlite_rebuild(table, sa.DateTime(timezone=True), sa.Float())
    else:
        for table, (column, _key) in TIMES.items():
            op.alter_column(table, column, type_=sa.Float(), existing_type=sa.DateTime(timezone=True),
                            existing_nullable=False, postgresql_using=f"extract(epoch from {column})")


def _epoch_to_datetime(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)


def _datetime_to_epoch(value: dt.datetime) -> float:
    return value.replace(tzinfo=dt.UTC).timestamp()


def _sqlite_rebuild(table: str, old_type: sa.types.TypeEngine, new_type: sa.types.TypeEngine) -> None:
    """Recreate the table with conventional constraint names and its time column's new type.
    The rows are copied as they are (SQLite keeps a REAL in a DATETIME column)."""
    with op.batch_alter_table(table, recreate="always", naming_convention=NAMING) as batch:
        if table in TIMES:
            batch.alter_column(TIMES[table][0], type_=new_type, existing_type=old_type, existing_nullable=False)


def _sqlite_rewrite(
    table: str, column: str, key: tuple[str, ...], read_as: sa.types.TypeEngine, write_as: sa.types.TypeEngine,
    convert: Callable[[Any], Any],
) -> None:
    """Rewrites every value of `column` with `convert`, read as `read_as` and written as
    `write_as`: SQLite keeps whatever the rebuild copied, and SQLAlchemy's DateTime writes an
    ISO string there."""
    conn = op.get_bind()
    source = sa.table(table, *(sa.column(k) for k in key), sa.column(column, read_as))
    target = sa.table(table, *(sa.column(k) for k in key), sa.column(column, write_as))
    rows = conn.execute(sa.select(*(source.c[k] for k in key), source.c[column])).all()
    if not rows:
        return
    statement = (
        sa.update(target)
        .where(*(target.c[k] == sa.bindparam(f"key_{k}") for k in key))
        .values({column: sa.bindparam("converted")})
    )
    conn.execute(statement, [
        {**{f"key_{k}": row[i] for i, k in enumerate(key)}, "converted": convert(row[-1])} for row in rows
    ])


def _rename_constraints() -> None:
    """PostgreSQL named 0001's constraints itself (accounts_pkey, users_login_normalized_key,
    memberships_user_id_fkey, ...); give each the name NAMING gives it."""
    inspector = sa.inspect(op.get_bind())
    for table in TABLES:
        renames = []
        pk = inspector.get_pk_constraint(table)
        renames.append((pk["name"], NAMING["pk"] % {"table_name": table}))
        for unique in inspector.get_unique_constraints(table):
            renames.append((unique["name"], NAMING["uq"] % {"table_name": table,
                                                           "column_0_name": unique["column_names"][0]}))
        for fk in inspector.get_foreign_keys(table):
            renames.append((fk["name"], NAMING["fk"] % {"table_name": table,
                                                       "column_0_name": fk["constrained_columns"][0],
                                                       "referred_table_name": fk["referred_table"]}))
        for old, new in renames:
            if old and old != new:
                op.execute(f'ALTER TABLE "{table}" RENAME CONSTRAINT "{old}" TO "{new}"')
