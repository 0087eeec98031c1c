"""Identity's settings come from IDENTITY_* variables plus a few shared ones."""
from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from services.identity.config import IdentitySettings


def test_defaults_are_safe_local_values(monkeypatch):
    for name in ("IDENTITY_DATABASE_URL", "IDENTITY_GRPC_BIND", "REDIS_URL", "BILLING_CENTER_URL",
                 "ENTERPRISE_PORTAL_URL", "SUPPORT_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    s = IdentitySettings()
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("identity.db")
    assert s.grpc_bind == "127.0.0.1:50051"
    assert s.redis_url == "redis://127.0.0.1:6379/0" and s.redis_prefix == "identity:"
    assert (s.billing_center_url, s.enterprise_portal_url) == ("http://127.0.0.1:8080", "http://127.0.0.1:8081")
    assert s.support_email == "customer-care@meetings.example"
    assert (s.argon2_memory_cost, s.argon2_time_cost, s.argon2_parallelism) == (19456, 2, 1)
    assert (s.session_idle_timeout, s.session_absolute_timeout) == (1800, 43200)
    assert (s.reset_link_ttl, s.handoff_ticket_ttl) == (1800, 60)


def test_the_environment_overrides_with_prefixed_and_shared_names(monkeypatch):
    monkeypatch.setenv("IDENTITY_DATABASE_URL", "postgresql://db/identity")
    monkeypatch.setenv("IDENTITY_GRPC_BIND", "0.0.0.0:50051")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/1")
    monkeypatch.setenv("BILLING_CENTER_URL", "https://billing.example")
    monkeypatch.setenv("ENTERPRISE_PORTAL_URL", "https://enterprise.example")
    monkeypatch.setenv("SUPPORT_EMAIL", "care@example.test")
    monkeypatch.setenv("IDENTITY_LOGIN_MAX_FAILURES", "5")
    s = IdentitySettings()
    assert (s.database_url, s.grpc_bind, s.redis_url) == (
        "postgresql://db/identity", "0.0.0.0:50051", "redis://cache:6379/1")
    assert (s.billing_center_url, s.enterprise_portal_url, s.support_email) == (
        "https://billing.example", "https://enterprise.example", "care@example.test")
    assert s.login_max_failures == 5


def test_hashing_gets_half_the_workers_by_default_one_hash_per_cpu_and_the_rest_queued(monkeypatch):
    for name in ("IDENTITY_HASH_CONCURRENCY", "IDENTITY_HASH_QUEUE", "IDENTITY_GRPC_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    s = IdentitySettings()
    cpus = len(os.sched_getaffinity(0))
    assert s.hash_concurrency == max(1, min(cpus, 4))
    assert s.hash_concurrency + s.hash_queue == max(s.hash_concurrency, 8)
    monkeypatch.setenv("IDENTITY_GRPC_WORKERS", "40")
    monkeypatch.setenv("IDENTITY_HASH_CONCURRENCY", "3")
    s = IdentitySettings()
    assert (s.hash_concurrency, s.hash_queue) == (3, 17)


@pytest.mark.parametrize("concurrency, queue, problem", [
    ("0", "4", "hash_concurrency"),
    ("2", "-1", "hash_queue"),
    ("8", "8", "must stay below grpc_workers"),
])
def test_hash_bounds_that_cannot_work_are_refused_naming_the_setting(monkeypatch, concurrency, queue, problem):
    monkeypatch.delenv("IDENTITY_GRPC_WORKERS", raising=False)
    monkeypatch.setenv("IDENTITY_HASH_CONCURRENCY", concurrency)
    monkeypatch.setenv("IDENTITY_HASH_QUEUE", queue)
    with pytest.raises(ValidationError, match=problem):
        IdentitySettings()


def test_in_prod_identity_does_not_start_without_a_real_device_secret(monkeypatch, tmp_path):
    from billing_common.config import DEV_SECRET_KEY, ConfigurationError
    from services.identity import bootstrap
    from services.identity.adapters.hashing import FakeHasher
    from services.identity.adapters.memory import InMemoryStore

    monkeypatch.delenv("IDENTITY_DEVICE_SECRET", raising=False)
    assert IdentitySettings(env="dev").device_key() == DEV_SECRET_KEY.encode()
    url = f"sqlite:///{tmp_path}/i.db"
    for secret in (None, DEV_SECRET_KEY, "too-short"):
        settings = IdentitySettings(env="prod", device_secret=secret, database_url=url,
                                    smtp_url="smtp://mail.internal:587", redis_url="redis://redis.internal:6379/0")
        with pytest.raises(ConfigurationError, match="IDENTITY_DEVICE_SECRET"):
            settings.check_can_serve()
        with pytest.raises(ConfigurationError, match="IDENTITY_DEVICE_SECRET"):
            bootstrap.build_dependencies(settings, store=InMemoryStore(), hasher=FakeHasher())
    monkeypatch.setenv("IDENTITY_DEVICE_SECRET", "s" * 40)
    assert IdentitySettings(env="prod", database_url=url).device_key() == b"s" * 40
