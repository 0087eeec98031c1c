from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from billing.identity.v1 import identity_pb2 as identity_pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.clock import FakeClock
from billing_common.db import make_engine
from billing_common.grpc_client import make_channel
from billing_common.payments.settings import GatewaySettings
from services.online_billing import bootstrap
from services.online_billing.config import OnlineBillingSettings
from tests import callers


@pytest.fixture
def settings(database_url: Callable[[str], str], tmp_path: Path) -> OnlineBillingSettings:
    """Settings on a fresh, migrated database, a free port and a private Maildir."""
    s = OnlineBillingSettings(
        database_url=database_url("online_billing"),
        grpc_bind="127.0.0.1:0",
        maildir=tmp_path / "mail",
        env="test",
        shutdown_grace=1.0,
        **callers.ENV,
    )
    bootstrap.migrate(s)
    return s


@pytest.fixture
def engine(settings: OnlineBillingSettings) -> Iterator[Engine]:
    e = make_engine(settings.database_url)
    yield e
    e.dispose()


@pytest.fixture
def gateway_settings(database_url: Callable[[str], str]) -> GatewaySettings:
    """The sandbox gateway on its own fresh database (PostgreSQL with TEST_DATABASE_URL)."""
    return GatewaySettings(BILLING_ENV="test", SANDBOX_GATEWAY_DATABASE_URL=database_url("sandbox_gateway"))


@dataclass
class RunningIdentity:
    """A real identity server (for online_billing's billing contacts) and an operator stub to
    provision its accounts and people."""

    target: str
    operator: identity_pb2_grpc.IdentityServiceStub

    def account(self, name: str, locale: str = "en", currency: str = "USD",
                kind: int = identity_pb.ACCOUNT_KIND_ONLINE) -> str:
        return self.operator.CreateAccount(identity_pb.CreateAccountRequest(
            name=name, kind=kind, currency=currency, locale=locale)).account.account_id

    def rep(self, account_id: str, email: str, name: str, locale: str = "en") -> str:
        """A vendor's rep (staff) serving the (enterprise) account."""
        user_id = self.operator.CreateUser(identity_pb.CreateUserRequest(
            login=email, email=email, name=name, locale=locale, staff=True)).user_id
        self.operator.AssignRep(identity_pb.AssignRepRequest(rep_user_id=user_id, account_id=account_id))
        return user_id

    def person(self, account_id: str, email: str, name: str, locale: str = "en",
               role: int = identity_pb.ROLE_BILLING_CONTACT) -> str:
        user_id = self.operator.CreateUser(identity_pb.CreateUserRequest(
            login=email, email=email, name=name, locale=locale)).user_id
        self.operator.AddMembership(identity_pb.AddMembershipRequest(user_id=user_id, account_id=account_id,
                                                                     role=role))
        return user_id


@pytest.fixture
def identity(database_url: Callable[[str], str], redis_url: str, tmp_path: Path) -> Iterator[RunningIdentity]:
    """identity on its own database and Redis prefix, on a free port."""
    from services.identity import bootstrap as identity_bootstrap
    from services.identity.config import IdentitySettings
    from services.identity.entrypoints import grpc_server as identity_server

    prefix = f"test-ob-identity-{uuid.uuid4().hex[:12]}:"
    s = IdentitySettings(env="test", database_url=database_url("identity_for_billing"), redis_url=redis_url,
                         redis_prefix=prefix, grpc_bind="127.0.0.1:0", maildir=tmp_path / "identity-mail",
                         smtp_url=None, shutdown_grace=1.0, argon2_memory_cost=1024, argon2_time_cost=1,
                         outbox_poll_interval=3600, **callers.ENV)
    identity_bootstrap.migrate(s)
    server = identity_server.build(s, clock=FakeClock())
    server.start()
    channel = make_channel(f"127.0.0.1:{server.port}", credentials=callers.OPERATOR_TESTS, default_timeout=10)
    try:
        yield RunningIdentity(f"127.0.0.1:{server.port}", identity_pb2_grpc.IdentityServiceStub(channel))
    finally:
        channel.close()
        server.stop()
