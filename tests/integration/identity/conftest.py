"""Identity integration fixtures: a migrated database (PostgreSQL or SQLite) and a real Redis.

Every test gets its own Redis key prefix; tests share a database per module and keep apart
with unique user IDs.
"""
from __future__ import annotations

import uuid

import pytest

from billing.identity.v1 import identity_pb2_grpc
from billing_common.clock import FakeClock
from services.identity import bootstrap
from services.identity.adapters.hashing import Argon2Hasher
from services.identity.adapters.store import RedisStore
from services.identity.config import IdentitySettings
from services.identity.entrypoints.grpc_server import build
from tests import callers


def drop_prefix(redis_url: str, prefix: str) -> None:
    """Delete what one test's server left in Redis (by its own prefix; never FLUSHDB)."""
    store = RedisStore.from_url(redis_url, prefix)
    keys = list(store.r.scan_iter(match=prefix + "*"))
    if keys:
        store.r.delete(*keys)
    store.close()


@pytest.fixture(scope="session")
def drop_redis_prefix():
    """drop_redis_prefix(url, prefix), for fixtures that start their own server."""
    return drop_prefix


@pytest.fixture(scope="module")
def identity_database(database_url) -> str:
    url = database_url("identity")
    bootstrap.migrate(IdentitySettings(database_url=url))
    return url


@pytest.fixture
def settings(identity_database, redis_url, tmp_path) -> IdentitySettings:
    return IdentitySettings(
        env="test",
        database_url=identity_database,
        redis_url=redis_url,
        redis_prefix=f"test-identity-{uuid.uuid4().hex[:12]}:",
        grpc_bind="127.0.0.1:0",
        maildir=tmp_path / "mail",
        smtp_url=None,
        billing_center_url="https://billing.example",
        enterprise_portal_url="https://enterprise.example",
        support_email="care@example.test",
        outbox_poll_interval=0.05,
        shutdown_grace=5.0,
        argon2_memory_cost=1024,  # small for speed; the S2 test checks the real defaults
        argon2_time_cost=1,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# --- an in-process gRPC server per module (test_identity_grpc.py, test_identity_billing_contacts_grpc.py)
# A module that uses `server` or `stub` defines `clock` with scope="module": the server keeps
# the clock it was built with, and the tests move that one.


def grpc_server_settings(database: str, redis_url: str, maildir) -> IdentitySettings:
    return IdentitySettings(
        env="test", database_url=database, redis_url=redis_url,
        redis_prefix=f"test-identity-grpc-{uuid.uuid4().hex[:12]}:", grpc_bind="127.0.0.1:0",
        maildir=maildir, smtp_url=None, billing_center_url="https://billing.example",
        enterprise_portal_url="https://enterprise.example", support_email="care@example.test",
        outbox_poll_interval=0.05, shutdown_grace=5.0, argon2_memory_cost=1024, argon2_time_cost=1,
        **callers.ENV,
    )


@pytest.fixture(scope="module")
def server_settings(identity_database, redis_url, tmp_path_factory) -> IdentitySettings:
    return grpc_server_settings(identity_database, redis_url, tmp_path_factory.mktemp("mail"))


@pytest.fixture(scope="module")
def server(server_settings, clock, drop_redis_prefix):
    srv = build(server_settings, clock=clock).start()
    yield srv
    srv.stop()
    drop_redis_prefix(server_settings.redis_url, server_settings.redis_prefix)


@pytest.fixture(scope="module")
def channel(server):
    ch = callers.channel_as_each_caller(f"127.0.0.1:{server.port}", default_timeout=10.0)
    yield ch
    ch.close()


@pytest.fixture(scope="module")
def stub(channel) -> identity_pb2_grpc.IdentityServiceStub:
    return identity_pb2_grpc.IdentityServiceStub(channel)


@pytest.fixture
def store(settings):
    s = RedisStore.from_url(settings.redis_url, settings.redis_prefix)
    yield s
    s.close()
    drop_prefix(settings.redis_url, settings.redis_prefix)


@pytest.fixture
def deps(settings, clock):
    """The service layer on the real SQL unit of work and the real Redis store."""
    d = bootstrap.build_dependencies(
        settings, clock=clock, hasher=Argon2Hasher(settings.argon2_memory_cost, settings.argon2_time_cost)
    )
    yield d
    d.close()
    drop_prefix(settings.redis_url, settings.redis_prefix)
