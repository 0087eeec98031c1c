"""SQLAlchemy 2 engines, the unit of work, and running a service's Alembic migrations.

Services use SQLAlchemy Core tables and repositories that map rows to plain domain objects;
the unit of work owns one connection and one transaction.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, inspect
from sqlalchemy.pool import StaticPool


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

    def rollback(self) -> None:
        self._tx.rollback()


def run_migrations(engine: Engine, script_location: Path, version_table: str) -> None:
    """`alembic upgrade head` for one service, on its own version table."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["version_table"] = version_table
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


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


