"""Identity when Redis or its database fails (S15): every call answers UNAVAILABLE, so the
portals show their 503 page, never a 500; health turns NOT_SERVING for the service name
(readiness) while the process stays SERVING (liveness), and SERVING again once the dependency
is back. Real servers: a redis-server of the test's own, stopped and started again, and a
PostgreSQL URL whose port refuses."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.embedded_redis import EmbeddedRedis
from billing_common.grpc_client import health_status, retry_after
from billing_common.grpc_server import GrpcServer
from services.identity.adapters.hashing import Argon2Hasher
from services.identity.config import IdentitySettings
from services.identity.entrypoints.grpc_server import SERVICE_NAME, build
from tests import callers
from tests.faults import refusing_url, throwaway_redis, wait_until
from tests.unit.web import fakes
from tests.unit.web.helpers import sign_in
from web.billing_center import create_app
from web.common.settings import PortalSettings

PASSWORD = "Outage-demo-2026!"


def _settings(database_url: str, redis_url: str, tmp_path, prefix: str | None = None) -> IdentitySettings:
    return IdentitySettings(
        env="test", database_url=database_url, redis_url=redis_url,
        redis_prefix=prefix or f"test-outage-{uuid.uuid4().hex[:12]}:", grpc_bind="127.0.0.1:0",
        maildir=tmp_path / "mail", smtp_url=None, outbox_poll_interval=0.2, shutdown_grace=2.0,
        health_check_interval=0.1, argon2_memory_cost=1024, argon2_time_cost=1, **callers.ENV,
    )


@pytest.fixture
def redis(tmp_path) -> Iterator[EmbeddedRedis]:
    server = throwaway_redis(tmp_path / "redis")
    yield server
    server.stop()


@pytest.fixture
def online() -> Iterator[GrpcServer]:
    server = fakes.serve_online_billing(fakes.FakeOnlineBilling())
    yield server
    server.stop()


def _identity(settings: IdentitySettings) -> GrpcServer:
    return build(settings).start()


def _portal(identity: GrpcServer, online: GrpcServer):  # type: ignore[no-untyped-def]
    return create_app(PortalSettings(
        BILLING_ENV="test", SECRET_KEY="test-secret-key-for-the-outage-tests-0123456789",
        IDENTITY_TARGET=f"127.0.0.1:{identity.port}", ONLINE_BILLING_TARGET=f"127.0.0.1:{online.port}",
        ENTERPRISE_PORTAL_TARGET="127.0.0.1:1", BILLING_CENTER_URL="http://bc.localtest:8080",
        ENTERPRISE_PORTAL_URL="http://ebp.localtest:8081", COOKIE_SECURE=False, RPC_TIMEOUT=3.0, **callers.ENV))


def _billing_contact(identity: GrpcServer) -> str:
    """A billing contact of a new online account, with PASSWORD; returns the user ID."""
    login = f"olivia-{uuid.uuid4().hex[:8]}@acme.test"
    with callers.channel_as_each_caller(f"127.0.0.1:{identity.port}", default_timeout=10) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        account = stub.CreateAccount(pb.CreateAccountRequest(
            name="Acme Online", kind=pb.ACCOUNT_KIND_ONLINE, currency="USD", locale="en")).account
        user_id = stub.CreateUser(pb.CreateUserRequest(
            login=login, email=login, name="Olivia", locale="en", password=PASSWORD)).user_id
        stub.AddMembership(pb.AddMembershipRequest(
            user_id=user_id, account_id=account.account_id, role=pb.ROLE_BILLING_CONTACT))
    return login


def _status(server: GrpcServer, service: str = SERVICE_NAME) -> str:
    return health_status(f"127.0.0.1:{server.port}", service, timeout=2)


def test_a_signed_in_page_answers_the_503_page_while_redis_is_stopped_and_works_again_after(
        identity_database, redis, online, tmp_path):
    identity = _identity(_settings(identity_database, redis.url, tmp_path))
    app = _portal(identity, online)
    try:
        client = app.test_client()
        sign_in(client, _billing_contact(identity), PASSWORD)
        assert client.get("/").status_code == 200
        redis.stop()
        for path in ("/", "/account/password", "/billing-contacts"):
            page = client.get(path)
            assert page.status_code == 503, path
            assert "temporarily unavailable" in page.get_data(as_text=True)
        redis.start()
        # Our own server, started again empty: the session is gone, so the page asks to sign in.
        assert wait_until(lambda: client.get("/").status_code in (200, 302))
    finally:
        app.extensions["portal"].close()
        identity.stop()


def test_identity_is_not_ready_while_redis_is_stopped_and_ready_again_when_it_returns(
        identity_database, redis, tmp_path):
    identity = _identity(_settings(identity_database, redis.url, tmp_path))
    try:
        assert _status(identity) == "SERVING"
        redis.stop()
        assert wait_until(lambda: _status(identity) == "NOT_SERVING")
        assert _status(identity, "") == "SERVING"  # liveness: the process is fine, no restart
        redis.start()
        assert wait_until(lambda: _status(identity) == "SERVING")
    finally:
        identity.stop()


def test_every_call_answers_unavailable_without_retry_after_while_the_database_refuses(redis, tmp_path):
    identity = _identity(_settings(refusing_url(), redis.url, tmp_path))
    try:
        assert _status(identity) == "NOT_SERVING"
        assert _status(identity, "") == "SERVING"
        with callers.channel_as_each_caller(f"127.0.0.1:{identity.port}", default_timeout=10) as channel:
            stub = identity_pb2_grpc.IdentityServiceStub(channel)
            for call, request in (
                (stub.Authenticate, pb.AuthenticateRequest(login="olivia@acme.test", password=PASSWORD,
                                                           portal=pb.PORTAL_BILLING_CENTER)),
                (stub.GetAccount, pb.GetAccountRequest(account_id="acc-1")),
                (stub.CreateAccount, pb.CreateAccountRequest(name="A", kind=pb.ACCOUNT_KIND_ONLINE,
                                                             currency="USD", locale="en")),
            ):
                with pytest.raises(grpc.RpcError) as err:
                    call(request)
                assert err.value.code() == grpc.StatusCode.UNAVAILABLE
                assert retry_after(err.value) is None  # down, not busy: the portal's 503 page
    finally:
        identity.stop()


def test_a_signed_in_page_answers_the_503_page_while_identitys_database_refuses(
        identity_database, redis, online, tmp_path):
    prefix = f"test-outage-{uuid.uuid4().hex[:12]}:"
    healthy = _identity(_settings(identity_database, redis.url, tmp_path, prefix))
    app = _portal(healthy, online)
    try:
        client = app.test_client()
        sign_in(client, _billing_contact(healthy), PASSWORD)
        assert client.get("/").status_code == 200
    finally:
        app.extensions["portal"].close()
        healthy.stop()
    # The same sessions (Redis, prefix), now served by an identity whose database refuses.
    broken = _identity(_settings(refusing_url(), redis.url, tmp_path, prefix))
    app_after = _portal(broken, online)
    try:
        cookie = next(c for c in client._cookies.values() if c.key == "bc_session")
        after = app_after.test_client()
        after.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
        page = after.get("/")
        assert page.status_code == 503
        assert "temporarily unavailable" in page.get_data(as_text=True)
    finally:
        app_after.extensions["portal"].close()
        broken.stop()


def test_sign_ins_whose_callers_gave_up_while_queued_for_a_hash_are_never_hashed(identity_database, redis, tmp_path):
    """Seven callers that give up while one hash holds the only slot: none of theirs is computed
    afterwards (it would take a core from the sign-ins still waiting for an answer)."""
    hasher = Argon2Hasher(memory_cost=1024, time_cost=1, max_concurrent=1, max_queued=10)
    identity = build(_settings(identity_database, redis.url, tmp_path), hasher=hasher).start()
    try:
        login = _billing_contact(identity)
        real, inside, release = hasher.ph, threading.Event(), threading.Event()
        computed: list[int] = []

        class Counting:
            """The real verification, counted; the first one holds the slot until released."""

            def verify(self, password_hash, password):  # type: ignore[no-untyped-def]
                computed.append(1)
                if len(computed) == 1:
                    inside.set()
                    release.wait(10)
                return real.verify(password_hash, password)

            def __getattr__(self, name):  # type: ignore[no-untyped-def]
                return getattr(real, name)

        hasher.ph = Counting()
        request = pb.AuthenticateRequest(login=login, password=PASSWORD, portal=pb.PORTAL_BILLING_CENTER)
        with callers.channel_as_each_caller(f"127.0.0.1:{identity.port}", default_timeout=10) as channel:
            stub = identity_pb2_grpc.IdentityServiceStub(channel)
            first = stub.Authenticate.future(request, timeout=20)
            assert inside.wait(10)
            with ThreadPoolExecutor(7) as pool:
                late = list(pool.map(lambda _: _code(stub.Authenticate, request, timeout=0.3), range(7)))
            assert late == [grpc.StatusCode.DEADLINE_EXCEEDED] * 7
            # The server learns each deadline a little after its caller set it: let the seven
            # run out on the server's clock too before the slot frees (under load the gap
            # between the callers' timeouts and the release could otherwise hand it to one).
            assert wait_until(lambda: hasher._queued == 0)
            release.set()
            assert first.result().session.token
            assert stub.Authenticate(request).session.token  # the slot is free again
        assert len(computed) == 2  # the first sign-in and the last, none of the seven
    finally:
        identity.stop()


def _code(call, request, timeout):  # type: ignore[no-untyped-def]
    try:
        call(request, timeout=timeout)
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK
