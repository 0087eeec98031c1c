"""In-memory twins of identity and the two backends, served as REAL gRPC servers in-process.

They are servicer subclasses of the generated code, run with billing_common.grpc_server's
build_server (so the real DomainError interceptor maps errors, trailers included), and the
portals talk to them through their real gRPC adapters. Behaviour follows identity.proto's
comments; the data mirrors the demo accounts of issue 2.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone

from google.protobuf.timestamp_pb2 import Timestamp

from billing.common.v1 import money_pb2
from billing.enterprise_portal.v1 import enterprise_portal_pb2, enterprise_portal_pb2_grpc
from billing.identity.v1 import identity_pb2, identity_pb2_grpc
from billing.online_billing.v1 import online_billing_pb2, online_billing_pb2_grpc
from billing_common.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from billing_common.grpc_server import GrpcServer, build_server

BC = identity_pb2.PORTAL_BILLING_CENTER
EBP = identity_pb2.PORTAL_ENTERPRISE
CONTACT = identity_pb2.ROLE_BILLING_CONTACT
MEMBER = identity_pb2.ROLE_MEMBER
REP = identity_pb2.ROLE_REP
COMMON_PASSWORDS = {"password", "password123", "12345678", "qwertyuiop"}
GENERIC_FAILURE = "invalid user ID/password"


@dataclass
class FakeUser:
    user_id: str
    login: str
    email: str
    name: str
    password: str | None
    role: int
    account_id: str = ""
    locale: str = "en"


@dataclass
class FakeIdentity(identity_pb2_grpc.IdentityServiceServicer):
    accounts: dict[str, identity_pb2.Account] = field(default_factory=dict)
    users: dict[str, FakeUser] = field(default_factory=dict)
    rep_accounts: dict[str, list[str]] = field(default_factory=dict)
    sessions: dict[str, tuple[str, int]] = field(default_factory=dict)
    tickets: dict[str, tuple[str, int]] = field(default_factory=dict)
    reset_tokens: dict[str, str] = field(default_factory=dict)
    reset_requests: list[tuple[str, int]] = field(default_factory=list)
    admin_mails: list[tuple[str, str]] = field(default_factory=list)
    care_mails: list[dict[str, str]] = field(default_factory=list)
    # Seconds to answer RESOURCE_EXHAUSTED with, per RPC name (tests switch it on).
    rate_limited: dict[str, int] = field(default_factory=dict)
    # RPC names answered UNAVAILABLE as a busy identity sheds load (tests switch it on).
    busy: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    # (RPC name, client_address) of every call that carries the visitor's address.
    client_addresses: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- data ---------------------------------------------------------------------------------
    def add_account(self, account_id: str, name: str, kind: int, currency: str = "USD") -> None:
        self.accounts[account_id] = identity_pb2.Account(
            account_id=account_id, name=name, kind=kind, status="active", currency=currency, locale="en")

    def add_user(self, user: FakeUser) -> FakeUser:
        self.users[user.user_id] = user
        return user

    def find(self, login: str) -> FakeUser | None:
        login = login.strip().lower()
        return next((u for u in self.users.values() if login in (u.login.lower(), u.email.lower())), None)

    def home_portal(self, user: FakeUser) -> int:
        if user.role == REP:
            return EBP
        if user.role == MEMBER:  # members of either kind of account belong to the Billing Center
            return BC
        kind = self.accounts[user.account_id].kind
        return BC if kind == identity_pb2.ACCOUNT_KIND_ONLINE else EBP

    def principal(self, user: FakeUser) -> identity_pb2.Principal:
        p = identity_pb2.Principal(user_id=user.user_id, login=user.login, name=user.name,
                                   email=user.email, locale=user.locale, role=user.role)
        if user.account_id:
            p.account.CopyFrom(self.accounts[user.account_id])
        return p

    def open_session(self, user: FakeUser, portal: int) -> identity_pb2.Session:
        token = secrets.token_urlsafe(32)
        self.sessions[token] = (user.user_id, portal)
        now = Timestamp()
        now.FromDatetime(datetime.now(timezone.utc))
        return identity_pb2.Session(token=token, portal=portal, authenticated_at=now)

    def session_user(self, token: str, portal: int) -> FakeUser:
        entry = self.sessions.get(token)
        if entry is None or entry[1] != portal:
            raise Unauthenticated("session is not valid")
        return self.users[entry[0]]

    def issue_reset_token(self, login: str) -> str:
        token = secrets.token_urlsafe(32)
        self.reset_tokens[token] = self.find(login).user_id  # type: ignore[union-attr]
        return token

    def _limit(self, rpc: str) -> None:
        self.calls.append(rpc)
        if rpc in self.rate_limited:
            raise RateLimited("too many attempts", retry_after=self.rate_limited[rpc])
        if rpc in self.busy:
            raise Unavailable("Too many sign-ins at once. Try again in a few seconds.", retry_after=2)

    @staticmethod
    def _check_new_password(password: str) -> None:
        if len(password) < 8:
            raise InvalidArgument("A password needs at least 8 characters.", field="new_password")
        if password.lower() in COMMON_PASSWORDS:
            raise InvalidArgument(
                "This password is one of the most common ones, so it is easy to guess. Choose another.",
                field="new_password")

    # --- RPCs -----------------------------------------------------------------------------------
    def Authenticate(self, request, context):  # type: ignore[no-untyped-def]
        self._limit("Authenticate")
        self.client_addresses.append(("Authenticate", request.client_address))
        user = self.find(request.login)
        if user is None or user.password is None or user.password != request.password:
            raise Unauthenticated(GENERIC_FAILURE)
        if user.role == MEMBER and request.portal == EBP:
            raise Unauthenticated(GENERIC_FAILURE)
        home = self.home_portal(user)
        answer = identity_pb2.AuthenticateResponse(principal=self.principal(user), home_portal=home)
        if home == request.portal:
            answer.session.CopyFrom(self.open_session(user, request.portal))
        else:
            ticket = secrets.token_urlsafe(32)
            self.tickets[ticket] = (user.user_id, home)
            answer.handoff_ticket = ticket
        return answer

    def ValidateSession(self, request, context):  # type: ignore[no-untyped-def]
        self.calls.append("ValidateSession")
        user = self.session_user(request.token, request.portal)
        return identity_pb2.ValidateSessionResponse(principal=self.principal(user))

    def SignOut(self, request, context):  # type: ignore[no-untyped-def]
        self._limit("SignOut")
        self.sessions.pop(request.token, None)
        return identity_pb2.SignOutResponse()

    def RedeemHandoffTicket(self, request, context):  # type: ignore[no-untyped-def]
        self.calls.append("RedeemHandoffTicket")
        self.client_addresses.append(("RedeemHandoffTicket", request.client_address))
        with self.lock:
            entry = self.tickets.pop(request.ticket, None)
        if entry is None or entry[1] != request.portal:
            raise Unauthenticated("ticket is not valid")
        user = self.users[entry[0]]
        return identity_pb2.RedeemHandoffTicketResponse(
            principal=self.principal(user), session=self.open_session(user, request.portal))

    def RequestPasswordReset(self, request, context):  # type: ignore[no-untyped-def]
        self._limit("RequestPasswordReset")
        self.client_addresses.append(("RequestPasswordReset", request.client_address))
        self.reset_requests.append((request.login, request.portal))
        return identity_pb2.RequestPasswordResetResponse()

    def CheckPasswordResetToken(self, request, context):  # type: ignore[no-untyped-def]
        return identity_pb2.CheckPasswordResetTokenResponse(valid=request.token in self.reset_tokens)

    def CompletePasswordReset(self, request, context):  # type: ignore[no-untyped-def]
        if request.token not in self.reset_tokens:
            raise InvalidArgument("This link is invalid, expired or already used.", field="token")
        self._check_new_password(request.new_password)
        user = self.users[self.reset_tokens.pop(request.token)]
        user.password = request.new_password
        for token in [t for t, (uid, _) in self.sessions.items() if uid == user.user_id]:
            del self.sessions[token]
        return identity_pb2.CompletePasswordResetResponse()

    def ChangePassword(self, request, context):  # type: ignore[no-untyped-def]
        user = self.session_user(request.session_token, request.portal)
        if request.current_password != user.password:
            raise Unauthenticated("the current password is not correct")
        self._check_new_password(request.new_password)
        user.password = request.new_password
        return identity_pb2.ChangePasswordResponse()

    def GetAccount(self, request, context):  # type: ignore[no-untyped-def]
        self._limit("GetAccount")
        account = self.accounts.get(request.account_id)
        if account is None:
            raise NotFound("no such account")
        contacts = [identity_pb2.Contact(user_id=u.user_id, name=u.name, email=u.email)
                    for u in self.users.values() if u.account_id == request.account_id and u.role == CONTACT]
        return identity_pb2.GetAccountResponse(account=account, billing_contacts=contacts)

    def ContactBillingAdministrator(self, request, context):  # type: ignore[no-untyped-def]
        user = self.session_user(request.session_token, request.portal)
        self._limit("ContactBillingAdministrator")
        if user.role != MEMBER:
            raise PermissionDenied("only members")
        if len(request.note) > 500:
            raise InvalidArgument("The note is too long.", field="note")
        self.admin_mails.append((user.user_id, request.note))
        return identity_pb2.ContactBillingAdministratorResponse(recipients=1)

    def ContactCustomerCare(self, request, context):  # type: ignore[no-untyped-def]
        self._limit("ContactCustomerCare")
        self.client_addresses.append(("ContactCustomerCare", request.client_address))
        if request.email.endswith(".invalid"):
            raise InvalidArgument("This email address cannot receive mail.", field="email")
        self.care_mails.append({"name": request.name, "email": request.email,
                                "subject": request.subject, "message": request.message})
        return identity_pb2.ContactCustomerCareResponse()

    def ListRepAccounts(self, request, context):  # type: ignore[no-untyped-def]
        user = self.session_user(request.session_token, request.portal)
        if user.role != REP:
            raise PermissionDenied("only reps")
        return identity_pb2.ListRepAccountsResponse(
            accounts=[self.accounts[a] for a in self.rep_accounts.get(user.user_id, [])])


def demo_identity() -> FakeIdentity:
    ident = FakeIdentity()
    ident.add_account("acc-acme", "Acme Online", identity_pb2.ACCOUNT_KIND_ONLINE, "USD")
    ident.add_account("acc-padaria", "Padaria Pão Quente", identity_pb2.ACCOUNT_KIND_ONLINE, "BRL")
    ident.add_account("acc-globex", "Globex Corporation", identity_pb2.ACCOUNT_KIND_ENTERPRISE, "USD")
    ident.add_account("acc-initech", "Initech", identity_pb2.ACCOUNT_KIND_ENTERPRISE, "BRL")
    ident.add_user(FakeUser("u-olivia", "olivia@acme.test", "olivia@acme.test", "Olivia Ortega",
                            "Online-demo-2026!", CONTACT, "acc-acme"))
    ident.add_user(FakeUser("u-mark", "mark@acme.test", "mark@acme.test", "Mark Member",
                            "Member-demo-2026!", MEMBER, "acc-acme"))
    ident.add_user(FakeUser("u-joana", "joana@padaria.test", "joana@padaria.test", "Joana Souza",
                            "Padaria-demo-2026!", CONTACT, "acc-padaria", "pt-BR"))
    ident.add_user(FakeUser("u-globex", "globex-billing", "ap@globex.test", "Globex Accounts Payable",
                            "Enterprise-demo-2026!", CONTACT, "acc-globex"))
    ident.add_user(FakeUser("u-carlos", "carlos@globex.test", "carlos@globex.test", "Carlos Silva",
                            None, CONTACT, "acc-globex"))
    ident.add_user(FakeUser("u-erin", "erin@globex.test", "erin@globex.test", "Erin Example",
                            "Member-demo-2026!", MEMBER, "acc-globex"))
    ident.add_user(FakeUser("u-rita", "rita.rep", "rita@vendor.test", "Rita Rep", "Rep-demo-2026!", REP))
    ident.rep_accounts["u-rita"] = ["acc-globex", "acc-initech"]
    return ident


@dataclass
class FakeOnlineBilling(online_billing_pb2_grpc.OnlineBillingServiceServicer):
    subscriptions: dict[str, online_billing_pb2.SubscriptionSummary] = field(default_factory=dict)

    def GetSubscriptionSummary(self, request, context):  # type: ignore[no-untyped-def]
        summary = self.subscriptions.get(request.account_id)
        if summary is None:
            raise NotFound("no subscription")
        return online_billing_pb2.GetSubscriptionSummaryResponse(subscription=summary)


def demo_online_billing() -> FakeOnlineBilling:
    end = Timestamp()
    end.FromDatetime(datetime(2027, 3, 15, tzinfo=timezone.utc))
    fake = FakeOnlineBilling()
    fake.subscriptions["acc-acme"] = online_billing_pb2.SubscriptionSummary(
        subscription_id="sub-1", plan_code="business", plan_name="Business", seats=12,
        interval=online_billing_pb2.BILLING_INTERVAL_ANNUAL,
        status=online_billing_pb2.SUBSCRIPTION_STATUS_ACTIVE,
        renewal_amount=money_pb2.Money(amount_minor=1_234_500, currency="USD"), current_period_end=end)
    return fake


@dataclass
class FakeEnterprisePortal(enterprise_portal_pb2_grpc.EnterprisePortalServiceServicer):
    summaries: dict[str, tuple[int, money_pb2.Money]] = field(default_factory=dict)

    def GetOpenInvoiceSummary(self, request, context):  # type: ignore[no-untyped-def]
        count, total = self.summaries.get(request.account_id, (0, money_pb2.Money(amount_minor=0, currency="USD")))
        return enterprise_portal_pb2.GetOpenInvoiceSummaryResponse(open_count=count, total_due=total)


def demo_enterprise_portal() -> FakeEnterprisePortal:
    fake = FakeEnterprisePortal()
    fake.summaries["acc-globex"] = (3, money_pb2.Money(amount_minor=4_250_075, currency="USD"))
    return fake


def serve_identity(servicer: FakeIdentity) -> GrpcServer:
    return build_server("127.0.0.1:0", lambda s: identity_pb2_grpc.add_IdentityServiceServicer_to_server(servicer, s),
                        ["billing.identity.v1.IdentityService"], workers=8, grace=0).start()


def serve_online_billing(servicer: FakeOnlineBilling) -> GrpcServer:
    return build_server(
        "127.0.0.1:0", lambda s: online_billing_pb2_grpc.add_OnlineBillingServiceServicer_to_server(servicer, s),
        ["billing.online_billing.v1.OnlineBillingService"], workers=4, grace=0).start()


def serve_enterprise_portal(servicer: FakeEnterprisePortal) -> GrpcServer:
    return build_server(
        "127.0.0.1:0",
        lambda s: enterprise_portal_pb2_grpc.add_EnterprisePortalServiceServicer_to_server(servicer, s),
        ["billing.enterprise_portal.v1.EnterprisePortalService"], workers=4, grace=0).start()
