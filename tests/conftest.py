"""Shared fixtures: real databases and a real Redis for the integration and e2e tests.

TEST_DATABASE_URL (a PostgreSQL server URL) and TEST_REDIS_URL switch to those servers; without
them the tests use SQLite files and the embedded Redis, and the summary says so.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from billing_common.db import normalise_url
from billing_common.embedded_redis import EmbeddedRedis

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The folder is the marker: tests/unit -> unit, and so on."""
    for item in items:
        for kind in ("unit", "integration", "contract", "e2e"):
            if f"{os.sep}tests{os.sep}{kind}{os.sep}" in str(item.path):
                item.add_marker(kind)


def pytest_report_header() -> list[str]:
    return [_backends_line()]


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    terminalreporter.write_line(_backends_line())


def _backends_line() -> str:
    db = f"PostgreSQL ({_safe(TEST_DATABASE_URL)})" if TEST_DATABASE_URL else "SQLite files (TEST_DATABASE_URL not set)"
    rd = f"Redis at {_safe(TEST_REDIS_URL)}" if TEST_REDIS_URL else "the embedded Redis (TEST_REDIS_URL not set)"
    return f"backends: databases on {db}; {rd}"


def _safe(url: str | None) -> str:
    if url and "://" in url and not url.startswith("redis"):
        return make_url(url).render_as_string(hide_password=True)
    return str(url)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """A factory: database_url("identity") gives a fresh, empty database for this test run."""
    created: list[str] = []
    admin = create_engine(normalise_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT") if TEST_DATABASE_URL else None

    def make(name: str) -> str:
        if admin is None:
            return f"sqlite:///{tmp_path_factory.mktemp('db') / name}.db"
        db = f"test_{name}_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db}"'))
        created.append(db)
        return make_url(normalise_url(TEST_DATABASE_URL)).set(database=db).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as conn:
            for db in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server's URL. Tests keep apart by key prefix, never by flushing."""
    if TEST_REDIS_URL:
        yield TEST_REDIS_URL
        return
    server = EmbeddedRedis(Path(tmp_path_factory.mktemp("redis"))).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def unique() -> Callable[[str], str]:
    """unique("olivia") -> "olivia-3f2a9c1b": ids that never collide between tests."""
    return lambda base: f"{base}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def structlog_as_found() -> Iterator[None]:
    """A test that configures logging (the services' CLI does, in-process) leaves it as it found
    it: loggers first used under that configuration would be cached writing to the output that
    was current then, and a later test reading its own output (capsys) would see nothing."""
    before = structlog.get_config()
    yield
    structlog.configure(**before)
