"""Builds identity's dependencies from settings; nothing here runs at import.

Used by the gRPC entrypoint, services.migrate, the dev supervisor (database_is_empty) and the tests.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import structlog
from sqlalchemy import Engine

from billing_common import db
from billing_common.clock import Clock
from billing_common.dependencies import build_sql_dependencies
from services.identity.adapters.hashing import Argon2Hasher
from services.identity.adapters.store import RedisStore
from services.identity.adapters.unit_of_work import SqlIdentityUnitOfWork
from services.identity.config import IdentitySettings
from services.identity.service_layer.dependencies import Dependencies, run_now
from services.identity.service_layer.ports import KeyValueStore, PasswordHasher

log = structlog.get_logger()

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "identity_alembic_version"


def migrate(settings: IdentitySettings) -> None:
    """Creates or upgrades the identity database to the newest revision."""
    db.migrate(settings.database_url, MIGRATIONS, VERSION_TABLE)


def database_is_empty(settings: IdentitySettings) -> bool:
    """True when there is no account yet (the demo loader only fills an empty database)."""
    return db.database_is_empty(settings.database_url, "accounts")


def password_hasher(settings: IdentitySettings) -> Argon2Hasher:
    return Argon2Hasher(settings.argon2_memory_cost, settings.argon2_time_cost, settings.argon2_parallelism,
                        max_concurrent=settings.hash_concurrency, max_queued=settings.hash_queue)


def build_dependencies(
    settings: IdentitySettings,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    store: KeyValueStore | None = None,
    hasher: PasswordHasher | None = None,
    background: bool = False,
) -> Dependencies:
    """The service layer's dependencies: SQL unit of work, Redis store, argon2id hasher.

    Anything passed in is used as is (tests); the rest is built from settings. With
    `background`, deferred work (the reset lookup and mail, S7) runs on one background thread
    that `.close()` lets finish before the connections close; without it, it runs at once.
    Call `.close()` on the result to dispose of what was built here.
    """
    settings.device_key()  # in prod, no start without a real IDENTITY_DEVICE_SECRET
    closers: list[Callable[[], None]] = []
    defer: Callable[[Callable[[], None]], None] = run_now
    if background:
        deferred = ThreadPoolExecutor(max_workers=1, thread_name_prefix="identity-deferred")

        def submit(work: Callable[[], None]) -> None:
            deferred.submit(_logged, work)

        defer = submit
        closers.append(lambda: deferred.shutdown(wait=True))
    if store is None:
        redis_store = RedisStore.from_url(settings.redis_url, settings.redis_prefix)
        closers.append(redis_store.close)
        store = redis_store
    return build_sql_dependencies(
        Dependencies, settings.database_url, SqlIdentityUnitOfWork, engine=engine, clock=clock, closers=closers,
        settings=settings, store=store, hasher=hasher or password_hasher(settings), defer=defer,
    )


def _logged(work: Callable[[], None]) -> None:
    try:
        work()
    except Exception:
        log.exception("deferred work failed")
