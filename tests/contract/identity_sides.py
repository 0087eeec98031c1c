"""The two identities the contract runs against, and the demo-like cast both are seeded with.

- FakeSide: tests/unit/web/fakes.py's FakeIdentity, served over real gRPC as the web tests do;
- RealSide: services/identity's gRPC server in-process on port 0, on a real SQL database
  (PostgreSQL with TEST_DATABASE_URL, else SQLite) and a real Redis (TEST_REDIS_URL, else the
  embedded one), built as tests/integration/identity builds it.

`stub` calls as the portal each request names (its caller credentials, tests/callers.py); the real
side is seeded through its provisioning calls as an operator command.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.clock import FakeClock
from billing_common.grpc_client import make_channel
from billing_common.mail import read_maildir
from services.identity.adapters.store import RedisStore
from services.identity.config import IdentitySettings
from services.identity.entrypoints.grpc_server import build
from tests import callers
from tests.unit.web import fakes

BC, EBP = pb.PORTAL_BILLING_CENTER, pb.PORTAL_ENTERPRISE
BILLING_CENTER_URL = "https://billing.example"
ENTERPRISE_PORTAL_URL = "https://enterprise.example"
_PORTAL_OF_URL = {BILLING_CENTER_URL: BC, ENTERPRISE_PORTAL_URL: EBP}


@dataclass(frozen=True)
class AccountSpec:
    name: str
    kind: int
    currency: str


@dataclass(frozen=True)
class Person:
    login: str
    email: str
    name: str
    password: str | None  # None: has not created one yet
    role: int
    account: str | None  # a key of Cast.accounts; None for the rep


@dataclass
class Cast:
    """The demo's shape (README "Demo sign-ins"), with user IDs unique to one test."""

    accounts: dict[str, AccountSpec]
    people: dict[str, Person]
    rep_serves: dict[str, list[str]]
    # Filled in by the side that seeded it.
    account_ids: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Person:
        return self.people[key]

    def account(self, key: str) -> pb.Account:
        """The account as identity answers it."""
        spec = self.accounts[key]
        return pb.Account(
            account_id=self.account_ids[key],
            name=spec.name,
            kind=spec.kind,
            status="active",
            currency=spec.currency,
            locale="en",
        )

    def principal(self, key: str) -> pb.Principal:
        """Who `key` is, as identity answers it after a sign-in."""
        p = self.people[key]
        principal = pb.Principal(
            user_id=self.user_ids[key], login=p.login, name=p.name, email=p.email, locale="en", role=p.role
        )
        if p.account is not None:
            principal.account.CopyFrom(self.account(p.account))
        return principal

    def contact(self, key: str) -> pb.Contact:
        p = self.people[key]
        return pb.Contact(user_id=self.user_ids[key], name=p.name, email=p.email, locale="en")


def demo_cast() -> Cast:
    tag = uuid.uuid4().hex[:8]
    contact, member, rep = pb.ROLE_BILLING_CONTACT, pb.ROLE_MEMBER, pb.ROLE_REP
    return Cast(
        accounts={
            "acme": AccountSpec(f"Acme Online {tag}", pb.ACCOUNT_KIND_ONLINE, "USD"),
            "globex": AccountSpec(f"Globex Corporation {tag}", pb.ACCOUNT_KIND_ENTERPRISE, "USD"),
            "initech": AccountSpec(f"Initech {tag}", pb.ACCOUNT_KIND_ENTERPRISE, "BRL"),
        },
        people={
            "olivia": Person(
                f"olivia-{tag}@acme.test",
                f"olivia-{tag}@acme.test",
                "Olivia Ortega",
                "Online-demo-2026!",
                contact,
                "acme",
            ),
            "mark": Person(
                f"mark-{tag}@acme.test",
                f"mark-{tag}@acme.test",
                "Mark Member",
                "Member-demo-2026!",
                member,
                "acme",
            ),
            "globex": Person(
                f"globex-billing-{tag}",
                f"ap-{tag}@globex.test",
                "Globex Accounts Payable",
                "Enterprise-demo-2026!",
                contact,
                "globex",
            ),
            "carlos": Person(
                f"carlos-{tag}@globex.test",
                f"carlos-{tag}@globex.test",
                "Carlos Silva",
                None,
                contact,
                "globex",
            ),
            "erin": Person(
                f"erin-{tag}@globex.test",
                f"erin-{tag}@globex.test",
                "Erin Example",
                "Member-demo-2026!",
                member,
                "globex",
            ),
            "rita": Person(
                f"rita.rep-{tag}", f"rita-{tag}@vendor.test", "Rita Rep", "Rep-demo-2026!", rep, None
            ),
        },
        rep_serves={"rita": ["initech", "globex"]},
    )


class Side:
    """One identity as a gRPC client sees it, plus the test's view of its mailbox."""

    name: str
    stub: identity_pb2_grpc.IdentityServiceStub

    def seed(self, cast: Cast) -> Cast:
        raise NotImplementedError

    def reset_links(self, email: str, count: int = 1) -> list[tuple[int, str]]:
        """(portal, token) of the reset links mailed to `email`, oldest first, once `count` arrived."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class FakeSide(Side):
    name = "fake"

    def __init__(self) -> None:
        self.fake = fakes.FakeIdentity()
        self.server = fakes.serve_identity(self.fake)
        self.channel = callers.channel_as_the_portal(f"127.0.0.1:{self.server.port}", default_timeout=10.0)
        self.stub = identity_pb2_grpc.IdentityServiceStub(self.channel)

    def seed(self, cast: Cast) -> Cast:
        for key, a in cast.accounts.items():
            cast.account_ids[key] = str(uuid.uuid4())
            self.fake.add_account(cast.account_ids[key], a.name, a.kind, a.currency)
        for key, p in cast.people.items():
            cast.user_ids[key] = str(uuid.uuid4())
            account_id = cast.account_ids[p.account] if p.account else ""
            self.fake.add_user(
                fakes.FakeUser(cast.user_ids[key], p.login, p.email, p.name, p.password, p.role, account_id)
            )
        for rep, accounts in cast.rep_serves.items():
            self.fake.rep_accounts[cast.user_ids[rep]] = [cast.account_ids[a] for a in accounts]
        return cast

    def reset_links(self, email: str, count: int = 1) -> list[tuple[int, str]]:
        links = [(portal, token) for to, portal, token in self.fake.sent_reset_links if to == email]
        assert len(links) >= count, f"{len(links)} reset links to {email}, expected {count}"
        return links

    def close(self) -> None:
        self.channel.close()
        self.server.stop()


class RealSide(Side):
    name = "real"

    def __init__(self, settings: IdentitySettings) -> None:
        self.settings = settings
        self.server = build(settings, clock=FakeClock()).start()
        self.channel = callers.channel_as_the_portal(f"127.0.0.1:{self.server.port}", default_timeout=10.0)
        self.stub = identity_pb2_grpc.IdentityServiceStub(self.channel)
        self.operator_channel = make_channel(f"127.0.0.1:{self.server.port}", credentials=callers.OPERATOR_TESTS,
                                             default_timeout=10.0)
        self.operator = identity_pb2_grpc.IdentityServiceStub(self.operator_channel)

    def seed(self, cast: Cast) -> Cast:
        for key, a in cast.accounts.items():
            cast.account_ids[key] = self.operator.CreateAccount(
                pb.CreateAccountRequest(name=a.name, kind=a.kind, currency=a.currency, locale="en")
            ).account.account_id
        for key, p in cast.people.items():
            cast.user_ids[key] = self.operator.CreateUser(
                pb.CreateUserRequest(
                    login=p.login,
                    email=p.email,
                    name=p.name,
                    locale="en",
                    password=p.password or "",
                    staff=p.role == pb.ROLE_REP,
                )
            ).user_id
            if p.account is not None:
                self.operator.AddMembership(
                    pb.AddMembershipRequest(
                        user_id=cast.user_ids[key], account_id=cast.account_ids[p.account], role=p.role
                    )
                )
        for rep, accounts in cast.rep_serves.items():
            for account in accounts:
                self.operator.AssignRep(
                    pb.AssignRepRequest(rep_user_id=cast.user_ids[rep], account_id=cast.account_ids[account])
                )
        return cast

    def reset_links(self, email: str, count: int = 1) -> list[tuple[int, str]]:
        # The link is mailed by identity's background thread and its outbox: wait, bounded.
        deadline = time.monotonic() + 10.0
        while True:
            links = self._links_in_maildir(email)
            if len(links) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(links) >= count, f"{len(links)} reset links to {email}, expected {count}"
        return links

    def _links_in_maildir(self, email: str) -> list[tuple[int, str]]:
        links = []
        for message in reversed(read_maildir(Path(self.settings.maildir), newest=500)):
            if message["To"] != email:
                continue
            for line in message.get_content().splitlines():
                base, sep, token = line.strip().rpartition("/reset/")
                if sep and base in _PORTAL_OF_URL:
                    links.append((_PORTAL_OF_URL[base], token))
        return links

    def close(self) -> None:
        self.channel.close()
        self.operator_channel.close()
        self.server.stop()
        store = RedisStore.from_url(self.settings.redis_url, self.settings.redis_prefix)
        keys = list(store.r.scan_iter(match=self.settings.redis_prefix + "*"))
        if keys:
            store.r.delete(*keys)
        store.close()


def rpc_error(call: Callable[..., object], *args: object, **kwargs: object) -> grpc.RpcError:
    """The error `call(*args, **kwargs)` fails with (the test fails if it succeeds)."""
    with pytest.raises(grpc.RpcError) as err:
        call(*args, **kwargs)
    return err.value
