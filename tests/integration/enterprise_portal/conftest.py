from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from billing_common.db import make_engine
from billing_common.payments.settings import GatewaySettings
from services.enterprise_portal import bootstrap
from services.enterprise_portal.config import EnterprisePortalSettings
from tests import callers


@pytest.fixture
def settings(database_url: Callable[[str], str], tmp_path: Path) -> EnterprisePortalSettings:
    """Settings on a fresh, migrated database, a free port and a private Maildir."""
    s = EnterprisePortalSettings(
        database_url=database_url("enterprise_portal"),
        grpc_bind="127.0.0.1:0",
        maildir=tmp_path / "mail",
        env="test",
        shutdown_grace=1.0,
        **callers.ENV,
    )
    bootstrap.migrate(s)
    return s


@pytest.fixture
def engine(settings: EnterprisePortalSettings) -> Iterator[Engine]:
    e = make_engine(settings.database_url)
    yield e
    e.dispose()


@pytest.fixture
def gateway_settings(database_url: Callable[[str], str]) -> GatewaySettings:
    """The sandbox gateway on its own fresh database (PostgreSQL with TEST_DATABASE_URL)."""
    return GatewaySettings(BILLING_ENV="test", SANDBOX_GATEWAY_DATABASE_URL=database_url("sandbox_gateway"))
