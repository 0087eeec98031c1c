"""Demo data for the dev configuration (README lists it).

Identity's part goes through identity's provisioning RPCs, like any other client; each backend
seeds its own rows for the account ids identity handed out.
"""
from __future__ import annotations

from dataclasses import dataclass

import grpc

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc


@dataclass(frozen=True)
class DemoUser:
    login: str
    email: str
    name: str
    locale: str
    password: str  # empty: no password yet, must use Reset/Create your password
    role: pb.Role.ValueType = pb.ROLE_BILLING_CONTACT


@dataclass(frozen=True)
class DemoAccount:
    key: str
    name: str
    kind: pb.AccountKind.ValueType
    currency: str
    locale: str
    users: tuple[DemoUser, ...]


ACCOUNTS = (
    DemoAccount("acme", "Acme Online", pb.ACCOUNT_KIND_ONLINE, "USD", "en", (
        DemoUser("olivia@acme.test", "olivia@acme.test", "Olivia Martin", "en", "Online-demo-2026!"),
        DemoUser("mark@acme.test", "mark@acme.test", "Mark Lee", "en", "Member-demo-2026!", pb.ROLE_MEMBER),
    )),
    DemoAccount("padaria", "Padaria Pão Quente", pb.ACCOUNT_KIND_ONLINE, "BRL", "pt-BR", (
        DemoUser("joana@padaria.test", "joana@padaria.test", "Joana Silva", "pt-BR", "Padaria-demo-2026!"),
    )),
    DemoAccount("globex", "Globex Corporation", pb.ACCOUNT_KIND_ENTERPRISE, "USD", "en", (
        DemoUser("globex-billing", "ap@globex.test", "Globex Accounts Payable", "en", "Enterprise-demo-2026!"),
        DemoUser("carlos@globex.test", "carlos@globex.test", "Carlos Mendes", "en", ""),
        DemoUser("erin@globex.test", "erin@globex.test", "Erin Walsh", "en", "Member-demo-2026!", pb.ROLE_MEMBER),
    )),
)

REP = DemoUser("rita.rep", "rita@meetings.example", "Rita Moreno", "en", "Rep-demo-2026!", pb.ROLE_REP)
REP_SERVES = ("globex",)

SIGN_INS = (
    ("Billing Center", "olivia@acme.test", "Online-demo-2026!", "billing contact, Acme Online (USD)"),
    ("Billing Center", "mark@acme.test", "Member-demo-2026!", "member of Acme Online: sees who the billing contact is"),
    ("Billing Center", "joana@padaria.test", "Padaria-demo-2026!", "billing contact, Padaria Pão Quente (BRL, pt-BR)"),
    ("Enterprise", "globex-billing", "Enterprise-demo-2026!",
     "billing contact (email ap@globex.test), Globex Corporation"),
    ("Enterprise", "carlos@globex.test", "(none yet)",
     "billing contact without a password: use Reset/Create your password"),
    ("Billing Center", "erin@globex.test", "Member-demo-2026!", "member of Globex: sees who the billing contacts are"),
    ("Enterprise", "rita.rep", "Rep-demo-2026!", "sales rep serving Globex"),
)


def load_identity(channel: grpc.Channel) -> dict[str, str]:
    """Creates the demo accounts and users; returns demo key -> identity account id."""
    stub = identity_pb2_grpc.IdentityServiceStub(channel)
    ids: dict[str, str] = {}
    for account in ACCOUNTS:
        created = stub.CreateAccount(
            pb.CreateAccountRequest(name=account.name, kind=account.kind, currency=account.currency,
                                    locale=account.locale), timeout=10,
        ).account
        ids[account.key] = created.account_id
        for user in account.users:
            user_id = _create_user(stub, user)
            stub.AddMembership(pb.AddMembershipRequest(user_id=user_id, account_id=created.account_id,
                                                       role=user.role), timeout=10)
    rep_id = _create_user(stub, REP, staff=True)
    for key in REP_SERVES:
        stub.AssignRep(pb.AssignRepRequest(rep_user_id=rep_id, account_id=ids[key]), timeout=10)
    return ids


def _create_user(stub: identity_pb2_grpc.IdentityServiceStub, user: DemoUser, staff: bool = False) -> str:
    return stub.CreateUser(
        pb.CreateUserRequest(login=user.login, email=user.email, name=user.name, locale=user.locale,
                             password=user.password, staff=staff), timeout=30,
    ).user_id


def sign_ins_table() -> str:
    rows = [f"  {portal:<15} {login:<22} {password:<23} {what}" for portal, login, password, what in SIGN_INS]
    return "\n".join(rows)
