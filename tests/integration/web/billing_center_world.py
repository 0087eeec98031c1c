"""The Billing Center app against the REAL online_billing service, started in-process on port 0
(its database: SQLite, or PostgreSQL with TEST_DATABASE_URL; the sandbox gateway on its own
database), and the fake identity of tests/unit/web (held to the real one by tests/contract).
No fake online_billing, so the pages cannot drift from the service they show."""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData

from billing_common.clock import FakeClock
from billing_common.db import make_engine
from billing_common.grpc_server import GrpcServer
from billing_common.mail import read_maildir
from billing_common.payments.settings import GatewaySettings
from services.devstack import demo_backends
from services.online_billing import bootstrap
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.entrypoints.grpc_server import build
from tests import callers
from tests.grpc_capture import GrpcCapture, assert_no_card_numbers, capturing
from tests.unit.web import fakes
from tests.unit.web.helpers import csrf_from, sign_in, text
from web.billing_center import create_app
from web.common.settings import PortalSettings

# The fake identity's account ids, seeded into the real online_billing.
ACCOUNTS = {"acme": "acc-acme", "padaria": "acc-padaria"}


@dataclass
class BillingWorld:
    identity: fakes.FakeIdentity
    identity_server: GrpcServer
    online_server: GrpcServer
    gateway: GatewaySettings
    app: Flask
    # online_billing's clock (now, to start with): advance it to let a period end.
    clock: FakeClock
    online_settings: OnlineBillingSettings
    # What online_billing received and answered in this test (tests/grpc_capture.py).
    grpc: GrpcCapture

    def stored_text(self) -> str:
        """Every row of every table of online_billing's and the sandbox's databases, as text
        (for the S18 scan)."""
        rows = []
        for url in (self.online_settings.database_url, self.gateway.sandbox_gateway_database_url):
            engine = make_engine(url)
            try:
                meta = MetaData()
                meta.reflect(engine)
                with engine.connect() as conn:
                    for table in meta.sorted_tables:
                        rows.extend(repr(tuple(row)) for row in conn.execute(table.select()))
            finally:
                engine.dispose()
        return "\n".join(rows)

    def mail_to(self, address: str, timeout: float = 15.0) -> tuple[str, str]:
        """(subject, body) of the newest mail online_billing's outbox delivered to `address`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in read_maildir(self.online_settings.maildir, newest=50):
                if message["To"] == address:
                    return str(message["Subject"]), message.get_body(preferencelist=("plain",)).get_content()
            time.sleep(0.05)
        raise AssertionError(f"no mail to {address}")

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def signed_in(self, login: str = "olivia@acme.test", password: str = "Online-demo-2026!") -> FlaskClient:
        client = self.client()
        answer = sign_in(client, login, password)
        assert answer.status_code == 302, text(answer)
        return client

    def age_sessions(self, minutes: int) -> None:
        """Every open session signed in `minutes` ago (S17's 15 minutes)."""
        for token in self.identity.session_opened:
            self.identity.session_opened[token] = datetime.now(UTC) - timedelta(minutes=minutes)


@pytest.fixture
def bc_world(database_url: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
             ) -> Iterator[BillingWorld]:
    # Every message online_billing receives and answers in the test, scanned at its end (S18).
    capture = capturing(monkeypatch)
    settings = OnlineBillingSettings(database_url=database_url("online_billing"), grpc_bind="127.0.0.1:0",
                                     maildir=tmp_path / "mail", env="test", shutdown_grace=1.0, **callers.ENV)
    bootstrap.migrate(settings)
    gateway = GatewaySettings(BILLING_ENV="test", SANDBOX_GATEWAY_DATABASE_URL=database_url("sandbox_gateway"))
    clock = FakeClock(datetime.now(UTC).timestamp())
    demo_backends.seed_online_billing(settings, ACCOUNTS, clock=clock, gateway_settings=gateway)
    online_server = build(settings, gateway_settings=gateway, clock=clock).start()
    identity = fakes.demo_identity()
    identity_server = fakes.serve_identity(identity)
    portal = PortalSettings(**{
        "BILLING_ENV": "test", "SECRET_KEY": "test-secret-key-for-the-billing-center-pages",
        "IDENTITY_TARGET": f"127.0.0.1:{identity_server.port}",
        "ONLINE_BILLING_TARGET": f"127.0.0.1:{online_server.port}",
        "ENTERPRISE_PORTAL_TARGET": "127.0.0.1:1", "BILLING_CENTER_URL": "http://bc.localtest:8080",
        "ENTERPRISE_PORTAL_URL": "http://ebp.localtest:8081", "COOKIE_SECURE": False, "RPC_TIMEOUT": 20.0,
        **callers.ENV})
    app = create_app(portal, gateway)
    try:
        yield BillingWorld(identity, identity_server, online_server, gateway, app, clock, settings, capture)
    finally:
        app.extensions["portal"].close()
        identity_server.stop()
        online_server.stop()
    assert_no_card_numbers(capture)



def post(client: FlaskClient, page_path: str, action: str, data: dict[str, Any]) -> Any:
    """GET the page for its CSRF token, then POST `data` to `action` with it."""
    token = csrf_from(client.get(page_path).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


def ids(page: str, pattern: str) -> list[str]:
    return re.findall(pattern, page)
