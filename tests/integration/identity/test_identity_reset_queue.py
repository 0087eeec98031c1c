"""The work behind a Reset/Create request (lookup, limits, mail) waits in identity's database,
bounded, and nothing accepted is lost: not to a restart, not to an outage (S7, S15). Real
database, a redis-server of the test's own stopped and started again, the real gRPC server."""
from __future__ import annotations

import uuid

import pytest

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.clock import FakeClock
from billing_common.errors import RateLimited
from billing_common.grpc_client import make_channel
from billing_common.mail import read_maildir
from services.identity import bootstrap
from services.identity.adapters.hashing import Argon2Hasher
from services.identity.config import IdentitySettings
from services.identity.domain.model import AccountKind, Portal, Role
from services.identity.entrypoints.grpc_server import build
from services.identity.service_layer import passwords, provisioning
from tests import callers
from tests.faults import throwaway_redis, wait_until


@pytest.fixture
def settings(database_url, tmp_path) -> IdentitySettings:
    url = database_url("identity")
    bootstrap.migrate(IdentitySettings(database_url=url))
    return IdentitySettings(
        env="test", database_url=url, redis_url="unix:///nowhere", redis_prefix=f"test-reset-{uuid.uuid4().hex[:8]}:",
        grpc_bind="127.0.0.1:0", maildir=tmp_path / "mail", smtp_url=None, outbox_poll_interval=0.05,
        reset_poll_interval=0.1, health_check_interval=0.1, shutdown_grace=2.0, argon2_memory_cost=1024,
        argon2_time_cost=1, billing_center_url="https://billing.example", **callers.ENV)


@pytest.fixture
def redis(tmp_path):
    server = throwaway_redis(tmp_path / "redis")
    yield server
    server.stop()


def _olivia(deps) -> str:  # type: ignore[no-untyped-def]
    account = provisioning.create_account(deps, "Acme", AccountKind.ONLINE, "USD", "en", by="tests")
    login = f"olivia-{uuid.uuid4().hex[:8]}@acme.test"
    user = provisioning.create_user(deps, login, login, "Olivia", "en", "Online-demo-2026!", by="tests")
    provisioning.add_membership(deps, user.id, account.id, Role.BILLING_CONTACT, by="tests")
    return login


def test_reset_requests_beyond_the_bound_are_refused_and_the_queue_stays_that_size(settings, redis):
    bounded = settings.model_copy(update={"redis_url": redis.url, "reset_queue_limit": 3})
    deps = bootstrap.build_dependencies(bounded, clock=FakeClock(), hasher=Argon2Hasher(1024, 1))
    try:
        login = _olivia(deps)
        deps.defer = lambda work: None  # a flood faster than the queue drains
        for who in (login, "nobody@nowhere.test", login):
            passwords.request_password_reset(deps, who, Portal.BILLING_CENTER, "192.0.2.9")
        for who in (login, "nobody@nowhere.test"):
            with pytest.raises(RateLimited):
                passwords.request_password_reset(deps, who, Portal.BILLING_CENTER, "192.0.2.9")
        with deps.uow() as uow:
            assert uow.reset_requests.count() == 3
        assert passwords.handle_reset_requests(deps) == 3
        passwords.request_password_reset(deps, login, Portal.BILLING_CENTER, "192.0.2.9")  # room again
    finally:
        deps.close()


def test_a_reset_accepted_while_redis_was_down_is_mailed_after_a_restart(settings, redis):
    live = settings.model_copy(update={"redis_url": redis.url})
    deps = bootstrap.build_dependencies(live, hasher=Argon2Hasher(1024, 1))
    login = _olivia(deps)
    deps.close()

    first = build(live).start()
    redis.stop()
    with make_channel(f"127.0.0.1:{first.port}", default_timeout=10, credentials=callers.BILLING_CENTER) as channel:
        identity_pb2_grpc.IdentityServiceStub(channel).RequestPasswordReset(pb.RequestPasswordResetRequest(
            login=login, portal=pb.PORTAL_BILLING_CENTER, client_address="192.0.2.10"))  # "sent"
    first.stop()  # SIGTERM's path: what was accepted and not yet done must not be lost
    assert not read_maildir(live.maildir, newest=50)

    redis.start()
    second = build(live).start()
    try:
        def mailed() -> bool:
            return any(m["To"] == login and "/reset/" in m.get_content() for m in read_maildir(live.maildir, 50))

        assert wait_until(mailed, timeout=20)
    finally:
        second.stop()
