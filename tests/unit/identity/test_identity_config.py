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


def test_password_hashes_in_flight_default_to_the_cpus_this_process_may_use_and_must_be_positive(monkeypatch):
    monkeypatch.delenv("IDENTITY_HASH_CONCURRENCY", raising=False)
    assert IdentitySettings().hash_concurrency == len(os.sched_getaffinity(0))
    monkeypatch.setenv("IDENTITY_HASH_CONCURRENCY", "2")
    assert IdentitySettings().hash_concurrency == 2
    monkeypatch.setenv("IDENTITY_HASH_CONCURRENCY", "0")
    with pytest.raises(ValidationError, match="hash_concurrency"):
        IdentitySettings()


def test_sign_ins_waiting_for_a_hash_are_bounded_and_the_bound_cannot_be_negative(monkeypatch):
    monkeypatch.delenv("IDENTITY_HASH_QUEUE", raising=False)
    assert IdentitySettings().hash_queue == 8
    monkeypatch.setenv("IDENTITY_HASH_QUEUE", "-1")
    with pytest.raises(ValidationError, match="hash_queue"):
        IdentitySettings()
