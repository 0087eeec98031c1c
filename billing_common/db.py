"""SQLAlchemy 2 engines, the unit of work, and running a service's Alembic migrations.

Services use SQLAlchemy Core tables and repositories that map rows to plain domain objects;
the unit of work owns one connection and one transaction. The naming convention, the UTC
datetime helpers and the migrate / empty-database helpers are shared by every service.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event, inspect, select, update
from sqlalchemy.pool import StaticPool

from billing_common.bulk import among

# Named constraints, so migrations (and SQLite's batch mode) can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def normalise_url(url: str) -> str:
    """postgresql:// URLs use psycopg 3, the driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15}, **kwargs)
        else:
            # One shared in-memory database for every thread of the process (tests).
            engine = create_engine(
                "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool, **kwargs
            )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=15000")
            # Deleted or overwritten rows (a delivered mail's reset link) are zeroed on disk.
            cur.execute("PRAGMA secure_delete=ON")
            if path and path != ":memory:":
                # Several processes (server, CLI, dispatcher) share the file.
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    # A server that does not answer fails a connection in seconds (S15: a call then answers
    # UNAVAILABLE within its deadline, and the readiness check notices), not after TCP's minutes.
    if url.startswith("postgresql"):
        kwargs["connect_args"] = {"connect_timeout": 5, **kwargs.get("connect_args", {})}
    return create_engine(url, pool_pre_ping=True, **kwargs)


class SqlUnitOfWork:
    """One transaction. Subclasses build their repositories in `_open(connection)`.

    `with uow: ...; uow.commit()` — leaving the block without commit rolls back, so a use case
    that fails half-way writes nothing (S24: never a partial write).
    """

    connection: Connection

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _open(self, connection: Connection) -> None:
        """Attach repositories to the connection."""

    def __enter__(self) -> Self:
        self.connection = self.engine.connect()
        self._tx = self.connection.begin()
        self._open(self.connection)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self.connection.close()

    def commit(self) -> None:
        self._tx.commit()


def lock_rows(connection: Connection, table: Table, key: str, values: Sequence[str]) -> None:
    """Takes the rows' write locks until the transaction ends, in key order (so two transactions
    never wait on each other in a circle). PostgreSQL: SELECT ... FOR UPDATE. SQLite has no row
    locks: a no-op UPDATE as the transaction's first statement takes the database's write lock
    at once (waiting out busy_timeout), where a read first would fail to upgrade later if
    another writer committed in between (and the driver would not even begin the transaction
    before the first write)."""
    column = table.c[key]
    if connection.dialect.name == "postgresql":
        # `= ANY(:array)`: one parameter and one statement text however many rows are locked.
        connection.execute(select(column).where(among(connection, column, values)).order_by(column)
                           .with_for_update())
    else:
        connection.execute(update(table).where(column.in_(values)).values({key: column}))


def run_migrations(engine: Engine, script_location: Path, version_table: str, revision: str = "head") -> None:
    """`alembic upgrade head` (or to `revision`) for one service, on its own version table."""
    _alembic(engine, script_location, version_table, "upgrade", revision)


def revert_migrations(engine: Engine, script_location: Path, version_table: str, revision: str) -> None:
    """`alembic downgrade revision`: back to an older schema (an operator's rollback, tests)."""
    _alembic(engine, script_location, version_table, "downgrade", revision)


def _alembic(engine: Engine, script_location: Path, version_table: str, direction: str, revision: str) -> None:
    """Runs Alembic's upgrade or downgrade in one transaction on the engine.

    On SQLite, foreign keys are not enforced while the migrations run: a batch migration
    rebuilds a table by dropping it, and dropping a parent with enforcement on deletes its
    children (ON DELETE CASCADE). The pragma only takes effect outside a transaction, so it is
    set before the migrations' transaction begins; a foreign key check runs before the commit,
    and enforcement is back on before the connection returns to the pool.
    """
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["version_table"] = version_table
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                cfg.attributes["connection"] = connection
                getattr(command, direction)(cfg, revision)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("the migrations left rows whose foreign keys point nowhere")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def migrate(url_or_engine: str | Engine, script_location: Path, version_table: str, revision: str = "head") -> None:
    """`run_migrations` on a URL (an engine made and disposed of here) or an existing engine."""
    if isinstance(url_or_engine, Engine):
        run_migrations(url_or_engine, script_location, version_table, revision)
        return
    engine = make_engine(url_or_engine)
    try:
        run_migrations(engine, script_location, version_table, revision)
    finally:
        engine.dispose()


def run_alembic_env(context: Any, target_metadata: MetaData) -> None:
    """The body of every service's migrations/env.py: online mode on the given connection."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=context.config.attributes["version_table"],
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def is_empty(engine: Engine, table: str) -> bool:
    """True when `table` is missing or has no rows (the demo loader's guard)."""
    from sqlalchemy import text

    if not inspect(engine).has_table(table):
        return True
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() is None


def database_is_empty(url: str, *tables: str) -> bool:
    """True when every one of `tables` is missing or has no rows (an engine made and disposed of here)."""
    engine = make_engine(url)
    try:
        return all(is_empty(engine, table) for table in tables)
    finally:
        engine.dispose()


def to_utc(moment: dt.datetime) -> dt.datetime:
    """A datetime to store: UTC, since SQLite keeps no offset and another zone's wall time
    would be misread. Naive datetimes are refused (ValueError) as ambiguous."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware one")
    return moment.astimezone(dt.UTC)


def aware_utc(moment: dt.datetime) -> dt.datetime:
    """A datetime read back, as aware UTC: SQLite hands back naive ones, and all we store is UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
