"""The contract's fixtures: each test runs once per side (fake, real), on a cast of its own.

Each side is started once per module; every test seeds its own cast with unique user IDs, so
tests never see each other's sessions, tickets, links or failure counters.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from services.identity import bootstrap
from services.identity.config import IdentitySettings
from tests import callers
from tests.contract.identity_sides import (
    BILLING_CENTER_URL,
    ENTERPRISE_PORTAL_URL,
    Cast,
    FakeSide,
    RealSide,
    Side,
    demo_cast,
)


@pytest.fixture(scope="module", params=["fake", "real"])
def identity(
    request: pytest.FixtureRequest, database_url, redis_url, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Side]:
    """Each contract test runs once against the fake identity and once against the real one."""
    if request.param == "fake":
        side: Side = FakeSide()
    else:
        settings = IdentitySettings(
            env="test",
            database_url=database_url("identity_contract"),
            redis_url=redis_url,
            redis_prefix=f"test-identity-contract-{uuid.uuid4().hex[:12]}:",
            grpc_bind="127.0.0.1:0",
            maildir=tmp_path_factory.mktemp("contract-mail"),
            smtp_url=None,
            billing_center_url=BILLING_CENTER_URL,
            enterprise_portal_url=ENTERPRISE_PORTAL_URL,
            support_email="care@example.test",
            outbox_poll_interval=0.05,
            shutdown_grace=5.0,
            argon2_memory_cost=1024,
            argon2_time_cost=1,  # small for speed
            **callers.ENV,
        )
        bootstrap.migrate(settings)
        side = RealSide(settings)
    yield side
    side.close()


@pytest.fixture
def cast(identity: Side) -> Cast:
    return identity.seed(demo_cast())


@pytest.fixture
def addr() -> str:
    """A client address per test, so per-address limits of one test never reach another."""
    return "10." + ".".join(str(b) for b in uuid.uuid4().bytes[:3])
