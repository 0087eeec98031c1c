"""Builds identity's dependencies from settings; nothing here runs at import.

Used by the gRPC entrypoint, services.migrate, the dev supervisor (database_is_empty) and the tests.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import structlog
from sqlalchemy import Engine

from billing_common import db
from billing_common.clock import Clock
from billing_common.dependencies import build_sql_dependencies
from billing_common.faults import dependency_failure, describe
from services.identity.adapters.hashing import Argon2Hasher
from services.identity.adapters.store import RedisStore
from services.identity.adapters.unit_of_work import SqlIdentityUnitOfWork
from services.identity.config import IdentitySettings
from services.identity.service_layer import passwords
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
    that `.close()` stops, after the run in progress, before the connections close; without
    it, it runs at once. Call `.close()` on the result to dispose of what was built here.
    """
    settings.device_key()  # in prod, no start without a real IDENTITY_DEVICE_SECRET
    closers: list[Callable[[], None]] = []
    defer: Callable[[Callable[[], object]], None] = run_now
    runner: DeferredRunner | None = None
    if background:
        runner = DeferredRunner(settings.reset_poll_interval)
        defer = runner.submit
        closers.append(lambda: runner.stop(settings.shutdown_grace))
    if store is None:
        redis_store = RedisStore.from_url(settings.redis_url, settings.redis_prefix)
        closers.append(redis_store.close)
        store = redis_store
    deps = build_sql_dependencies(
        Dependencies, settings.database_url, SqlIdentityUnitOfWork, engine=engine, clock=clock, closers=closers,
        settings=settings, store=store, hasher=hasher or password_hasher(settings), defer=defer,
    )
    if runner is not None:
        # Requests accepted before a restart, during an outage or by another replica.
        runner.start(lambda: passwords.handle_reset_requests(deps))
    return deps


class DeferredRunner:
    """One background thread for identity's deferred work, which is idempotent: it drains a
    queue kept in the database (the reset requests). `submit` wakes it; work submitted while a
    run is pending is coalesced into that run. Between wake-ups it runs `poll` every `interval`
    seconds. Nothing is lost when it stops: what it has not handled waits in the database."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._pending: Callable[[], object] | None = None
        self._poll: Callable[[], object] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def submit(self, work: Callable[[], object]) -> None:
        with self._lock:
            self._pending = work
        self._wake.set()

    def start(self, poll: Callable[[], object]) -> None:
        self._poll = poll
        self._thread = threading.Thread(target=self._run, name="identity-deferred", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self._wake.set()  # a first look at once
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            if self._stop.is_set():
                return
            self._wake.clear()
            with self._lock:
                work, self._pending = self._pending or self._poll, None
            if work is None:
                continue
            try:
                work()
            except Exception as exc:
                if dependency_failure(exc):  # an outage: the readiness check says it already
                    log.warning("deferred work waits for a dependency", error=describe(exc))
                else:
                    log.exception("deferred work failed")

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
