"""Identity unit-test fixtures: the service layer over in-memory fakes and a FakeClock."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from billing_common.clock import FakeClock
from services.identity.adapters.hashing import FakeHasher
from services.identity.adapters.memory import InMemoryData, InMemoryStore, InMemoryUnitOfWork
from services.identity.config import IdentitySettings
from services.identity.domain.model import AccountKind, Portal, Role
from services.identity.service_layer import authentication, provisioning
from services.identity.service_layer.dependencies import Dependencies


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> IdentitySettings:
    return IdentitySettings(
        env="test", database_url="sqlite://", billing_center_url="https://billing.example",
        enterprise_portal_url="https://enterprise.example", support_email="care@example.test",
    )


@pytest.fixture
def data() -> InMemoryData:
    return InMemoryData()


@pytest.fixture
def hasher() -> FakeHasher:
    return FakeHasher()


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def deps(settings, data, hasher, store, clock) -> Dependencies:
    return Dependencies(
        settings=settings, uow=InMemoryUnitOfWork.factory(data), store=store, hasher=hasher, clock=clock
    )


@dataclass
class World:
    """The demo's shape: an online and an enterprise account with contacts, members, a rep."""

    online_id: str
    enterprise_id: str
    olivia: str  # online billing contact
    mark: str  # online member
    globex: str  # enterprise billing contact, user name user ID
    carlos: str  # enterprise billing contact without a password
    erin: str  # enterprise member
    rita: str  # rep serving the enterprise account


PASSWORDS = {
    "olivia@acme.test": "Online-demo-2026!",
    "mark@acme.test": "Member-demo-2026!",
    "globex-billing": "Enterprise-demo-2026!",
    "erin@globex.test": "Member-demo-2026!",
    "rita.rep": "Rep-demo-2026!",
}


@pytest.fixture
def world(deps) -> World:
    online = provisioning.create_account(deps, "Acme Online", AccountKind.ONLINE, "USD", "en", by="tests")
    enterprise = provisioning.create_account(deps, "Globex Corporation", AccountKind.ENTERPRISE, "USD", "en",
                                             by="tests")

    def user(login, email, name, role=None, account=None, password=None, staff=False, locale="en"):
        u = provisioning.create_user(deps, login, email, name, locale,
                                 password if password is not None else PASSWORDS.get(login, ""), staff, by="tests")
        if role:
            provisioning.add_membership(deps, u.id, account.id, role, by="tests")
        return u.id

    w = World(
        online_id=online.id,
        enterprise_id=enterprise.id,
        olivia=user("olivia@acme.test", "olivia@acme.test", "Olivia Online", Role.BILLING_CONTACT, online),
        mark=user("mark@acme.test", "mark@acme.test", "Mark Member", Role.MEMBER, online),
        globex=user("globex-billing", "ap@globex.test", "Globex AP", Role.BILLING_CONTACT, enterprise),
        carlos=user("carlos@globex.test", "carlos@globex.test", "Carlos Contact", Role.BILLING_CONTACT,
                    enterprise, password="", locale="pt-BR"),
        erin=user("erin@globex.test", "erin@globex.test", "Erin Member", Role.MEMBER, enterprise),
        rita=user("rita.rep", "rita@meetings.example", "Rita Rep", staff=True),
    )
    provisioning.assign_rep(deps, w.rita, enterprise.id, by="tests")
    return w


@pytest.fixture
def sign_in(deps):
    """sign_in("olivia@acme.test") with the demo password, at the Billing Center by default."""

    def sign_in(login: str, portal: Portal = Portal.BILLING_CENTER, password: str | None = None,
                address: str = "203.0.113.7"):
        return authentication.authenticate(deps, login, password or PASSWORDS[login], portal, address)

    return sign_in
