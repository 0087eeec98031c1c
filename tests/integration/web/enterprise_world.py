"""The Enterprise portal app against the REAL enterprise_portal service, started in-process on
port 0 (its database: SQLite, or PostgreSQL with TEST_DATABASE_URL; the sandbox gateway on its
own database), and the fake identity of tests/unit/web (held to the real one by tests/contract)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from billing_common.billing_contacts import AccountContacts, BillingContact
from billing_common.clock import FakeClock, utc
from billing_common.grpc_server import GrpcServer
from billing_common.money import Money
from billing_common.payments.settings import GatewaySettings
from services.enterprise_portal import bootstrap
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.domain.lines import Line, LineKind
from services.enterprise_portal.entrypoints.grpc_server import build
from services.enterprise_portal.service_layer import invoicing, purchase_orders
from services.enterprise_portal.service_layer.dependencies import Dependencies
from tests import callers
from tests.unit.web import fakes
from tests.unit.web.helpers import sign_in, text
from web.common.settings import PortalSettings
from web.enterprise_portal import create_app

GLOBEX, INITECH = "acc-globex", "acc-initech"
CONTACT = ("globex-billing", "Enterprise-demo-2026!")
REP = ("rita.rep", "Rep-demo-2026!")
OTHER_REP = ("otto.rep", "Rep-demo-2026!")  # serves Initech only


@dataclass
class EnterpriseWorld:
    identity: fakes.FakeIdentity
    identity_server: GrpcServer
    server: GrpcServer
    gateway: GatewaySettings
    app: Flask
    clock: FakeClock
    deps: Dependencies
    settings: EnterprisePortalSettings

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def signed_in(self, who: tuple[str, str] = CONTACT) -> FlaskClient:
        client = self.client()
        answer = sign_in(client, *who)
        assert answer.status_code == 302, text(answer)
        return client

    def age_sessions(self, minutes: int) -> None:
        for token in self.identity.session_opened:
            self.identity.session_opened[token] = datetime.now(UTC) - timedelta(minutes=minutes)

    def issue(self, minor: int, *, days_ago: int = 0, po: str | None = None, account: str = GLOBEX,
              terms: str = "NET 30") -> invoicing.IssuedInvoice:
        at = utc(self.clock.now()) - timedelta(days=days_ago)
        with self.deps.uow() as uow:
            issued = invoicing.issue_invoice(uow, account, [Line(LineKind.CUSTOM, "Meetings seats", 1,
                                                                 Money(minor, "USD"))], terms, po,
                                             issued_on=at.date(), at=at)
            uow.commit()
        return issued

    def po(self, number: str, minor: int, valid_from: dt.date, valid_to: dt.date, account: str = GLOBEX) -> None:
        purchase_orders.create_po(self.deps, account, number, minor, "USD", valid_from, valid_to)

    @property
    def today(self) -> dt.date:
        return utc(self.clock.now()).date()


class PeopleOfTheFakeIdentity:
    """enterprise_portal's BillingContacts over the fake identity's data (its gRPC fake answers
    the portals' calls only; the real ListBillingContacts batch is tested against the real
    identity): each account's billing contacts and reps, with their languages."""

    def __init__(self, identity: fakes.FakeIdentity) -> None:
        self.identity = identity

    def for_account(self, account_id: str) -> AccountContacts | None:
        return self.for_accounts([account_id]).get(account_id)

    def for_accounts(self, account_ids: Collection[str]) -> dict[str, AccountContacts]:
        def person(u: fakes.FakeUser) -> BillingContact:
            return BillingContact(u.user_id, u.name, u.email, u.locale)

        return {a: AccountContacts(a, self.identity.accounts[a].locale or "en",
                                   tuple(person(u) for u in self.identity._billing_contacts(a)),
                                   tuple(person(self.identity.users[r]) for r, served in
                                         sorted(self.identity.rep_accounts.items()) if a in served))
                for a in account_ids if a in self.identity.accounts}


@pytest.fixture
def ep_world(database_url: Callable[[str], str], tmp_path: Path) -> Iterator[EnterpriseWorld]:
    settings = EnterprisePortalSettings(database_url=database_url("enterprise_portal"), grpc_bind="127.0.0.1:0",
                                        maildir=tmp_path / "mail", env="test", shutdown_grace=1.0,
                                        jobs_interval=0.0, **callers.ENV)
    bootstrap.migrate(settings)
    gateway = GatewaySettings(BILLING_ENV="test", SANDBOX_GATEWAY_DATABASE_URL=database_url("sandbox_gateway"))
    clock = FakeClock(datetime.now(UTC).timestamp())
    identity = fakes.demo_identity()
    identity.add_user(fakes.FakeUser("u-otto", "otto.rep", "otto@vendor.test", "Otto Rep", "Rep-demo-2026!",
                                     fakes.REP))
    identity.rep_accounts["u-otto"] = [INITECH]
    people = PeopleOfTheFakeIdentity(identity)
    server = build(settings, gateway_settings=gateway, clock=clock, contacts=people).start()
    deps = bootstrap.build_dependencies(settings, gateway_settings=gateway, clock=clock, contacts=people)
    identity_server = fakes.serve_identity(identity)
    portal = PortalSettings(**{
        "BILLING_ENV": "test", "SECRET_KEY": "test-secret-key-for-the-enterprise-portal-pages",
        "IDENTITY_TARGET": f"127.0.0.1:{identity_server.port}",
        "ONLINE_BILLING_TARGET": "127.0.0.1:1", "ENTERPRISE_PORTAL_TARGET": f"127.0.0.1:{server.port}",
        "BILLING_CENTER_URL": "http://bc.localtest:8080", "ENTERPRISE_PORTAL_URL": "http://ebp.localtest:8081",
        "COOKIE_SECURE": False, "RPC_TIMEOUT": 20.0, **callers.ENV})
    app = create_app(portal, gateway)
    try:
        yield EnterpriseWorld(identity, identity_server, server, gateway, app, clock, deps, settings)
    finally:
        app.extensions["portal"].close()
        identity_server.stop()
        server.stop()
        deps.close()
