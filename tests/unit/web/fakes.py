"""In-memory twins of identity and the two backends, served as REAL gRPC servers in-process.

They are servicer subclasses of the generated code, run with billing_common.grpc_server's
build_server (so the real DomainError interceptor maps errors, trailers included, and the real
services' allow-lists admit callers with the test secrets of tests/callers.py), and the portals
talk to them through their real gRPC adapters. The data mirrors the demo accounts of
issue 2. FakeIdentity answers as the real identity does (statuses, error fields, who goes to
which portal): tests/contract/test_identity_contract.py runs the same tests against both.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from billing.common.v1 import money_pb2
from billing.enterprise_portal.v1 import enterprise_portal_pb2, enterprise_portal_pb2_grpc
from billing.identity.v1 import identity_pb2, identity_pb2_grpc
from billing.online_billing.v1 import online_billing_pb2, online_billing_pb2_grpc
from billing_common import limits
from billing_common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from billing_common.grpc_server import GrpcServer, build_server, request_id_var
from services.enterprise_portal.entrypoints.grpc_server import ALLOWED_CALLERS as ENTERPRISE_PORTAL_CALLERS
from services.identity.domain.model import validate_email, validate_text
from services.identity.entrypoints.grpc_server import ALLOWED_CALLERS as IDENTITY_CALLERS
from services.identity.entrypoints.grpc_server import check_own_portal
from services.online_billing.entrypoints.grpc_server import ALLOWED_CALLERS as ONLINE_BILLING_CALLERS
from tests import callers

BC = identity_pb2.PORTAL_BILLING_CENTER
EBP = identity_pb2.PORTAL_ENTERPRISE
CONTACT = identity_pb2.ROLE_BILLING_CONTACT
MEMBER = identity_pb2.ROLE_MEMBER
REP = identity_pb2.ROLE_REP
COMMON_PASSWORDS = {"password", "password123", "12345678", "qwertyuiop"}
# identity's own words (services/identity): tests/contract holds this fake to them.
INVALID_CREDENTIALS = "Invalid user ID/password"
INVALID_SESSION = "Your session has ended. Please sign in again."
INVALID_TICKET = "This sign-in hand-off is no longer valid. Please sign in again."
INVALID_RESET_LINK = "This Reset/Create your password link has expired or was already used. Ask for a new one."
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
DEVICE_TOKEN_LIFETIME = timedelta(days=180)
LOGIN_MAX_FAILURES = 10


def _timestamp(moment: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


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
    # token -> (user_id, portal)
    sessions: dict[str, tuple[str, int]] = field(default_factory=dict)
    session_opened: dict[str, datetime] = field(default_factory=dict)
    tickets: dict[str, tuple[str, int]] = field(default_factory=dict)
    # token -> user_id; only the newest link of a user is here
    reset_tokens: dict[str, str] = field(default_factory=dict)
    reset_requests: list[tuple[str, int]] = field(default_factory=list)
    # The "mailbox" of reset links: (email, portal, token), oldest first.
    sent_reset_links: list[tuple[str, int, str]] = field(default_factory=list)
    admin_mails: list[tuple[str, str]] = field(default_factory=list)
    care_mails: list[dict[str, str]] = field(default_factory=list)
    # Seconds to answer RESOURCE_EXHAUSTED with, per RPC name (tests switch it on).
    rate_limited: dict[str, int] = field(default_factory=dict)
    # The request id each ValidateSession arrived with (x-request-id, bound by the server).
    request_ids: list[str] = field(default_factory=list)
    # rpc -> the domain error it answers, whatever the request (a switch, like rate_limited).
    refusals: dict[str, Exception] = field(default_factory=dict)
    # RPC names answered UNAVAILABLE as a busy identity sheds load (tests switch it on).
    busy: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    # (RPC name, client_address) of every call that carries the visitor's address.
    client_addresses: list[tuple[str, str]] = field(default_factory=list)
    # S4, as identity does it: device token -> user id (each successful sign-in issues one),
    # failed sign-ins per user from browsers without their token, and per device token.
    device_tokens: dict[str, str] = field(default_factory=dict)
    untrusted_failures: dict[str, int] = field(default_factory=dict)
    device_failures: dict[str, int] = field(default_factory=dict)
    # The device_token of every Authenticate, as sent ("" for none).
    device_tokens_sent: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- data ---------------------------------------------------------------------------------
    def add_account(self, account_id: str, name: str, kind: int, currency: str = "USD",
                    locale: str = "en") -> None:
        self.accounts[account_id] = identity_pb2.Account(
            account_id=account_id, name=name, kind=kind, status="active", currency=currency, locale=locale)

    def add_user(self, user: FakeUser) -> FakeUser:
        self.users[user.user_id] = user
        return user

    def find(self, login: str) -> FakeUser | None:
        login = login.strip().lower()
        return next((u for u in self.users.values() if login in (u.login.lower(), u.email.lower())), None)

    def home_portal(self, user: FakeUser) -> int:
        """Reps and enterprise billing contacts: Enterprise; everyone else: Billing Center."""
        if user.role == REP:
            return EBP
        enterprise = self.accounts[user.account_id].kind == identity_pb2.ACCOUNT_KIND_ENTERPRISE
        if user.role == CONTACT and enterprise:
            return EBP
        return BC

    def principal(self, user: FakeUser) -> identity_pb2.Principal:
        p = identity_pb2.Principal(user_id=user.user_id, login=user.login, name=user.name,
                                   email=user.email, locale=user.locale, role=user.role)
        if user.account_id:
            p.account.CopyFrom(self.accounts[user.account_id])
        return p

    def session_message(self, token: str) -> identity_pb2.Session:
        opened = self.session_opened[token]
        return identity_pb2.Session(
            token=token, portal=self.sessions[token][1], authenticated_at=_timestamp(opened),
            idle_expires_at=_timestamp(opened + IDLE_TIMEOUT),
            absolute_expires_at=_timestamp(opened + ABSOLUTE_TIMEOUT))

    def open_session(self, user: FakeUser, portal: int) -> identity_pb2.Session:
        token = secrets.token_urlsafe(32)
        self.sessions[token] = (user.user_id, portal)
        self.session_opened[token] = datetime.now(UTC)
        return self.session_message(token)

    def end_sessions(self, user_id: str, keep: str | None = None) -> None:
        for token in [t for t, (uid, _) in self.sessions.items() if uid == user_id and t != keep]:
            del self.sessions[token]
            self.session_opened.pop(token, None)

    def session_user(self, token: str, portal: int) -> FakeUser:
        entry = self.sessions.get(token)
        if entry is None or entry[1] != portal:
            raise Unauthenticated(INVALID_SESSION)
        return self.users[entry[0]]

    def issue_reset_token(self, login: str) -> str:
        """A live reset link for `login`, as if mailed; it voids the user's older ones."""
        user = self.find(login)
        assert user is not None, f"no user {login}"
        token = secrets.token_urlsafe(32)
        with self.lock:
            for old in [t for t, uid in self.reset_tokens.items() if uid == user.user_id]:
                del self.reset_tokens[old]
            self.reset_tokens[token] = user.user_id
        return token

    @staticmethod
    def _portal(portal: int) -> int:
        if portal not in (BC, EBP):
            raise InvalidArgument("The field portal must be set to a known value.", field="portal")
        check_own_portal(portal)
        return portal

    def _limit(self, rpc: str) -> None:
        self.calls.append(rpc)
        self._refuse_if_switched_on(rpc)

    def _refuse_if_switched_on(self, rpc: str) -> None:
        if rpc in self.refusals:
            raise self.refusals[rpc]
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
        self.calls.append("Authenticate")
        self.client_addresses.append(("Authenticate", request.client_address))
        self._portal(request.portal)
        if not request.login.strip():
            raise InvalidArgument("Enter your user ID.", field="login")
        if not request.password:
            raise InvalidArgument("Enter your password.", field="password")
        if len(request.device_token) > limits.MAX_TOKEN:
            raise InvalidArgument(f"The field device_token takes at most {limits.MAX_TOKEN} characters.",
                                  field="device_token")
        self.device_tokens_sent.append(request.device_token)
        self._refuse_if_switched_on("Authenticate")
        user = self.find(request.login)
        # A device token counts only for the user it was issued to (S4); its failures are its own.
        trusted = user is not None and self.device_tokens.get(request.device_token) == user.user_id
        failures, budget = ((self.device_failures, request.device_token) if trusted
                            else (self.untrusted_failures, user.user_id if user else request.login.lower()))
        if failures.get(budget, 0) >= LOGIN_MAX_FAILURES:
            raise RateLimited("Too many attempts. Try again in 1 minute.", retry_after=30)
        wrong = user is None or user.password is None or user.password != request.password
        # The seed: at the Enterprise door, someone who is not a billing contact is refused alike.
        if wrong or (user.role == MEMBER and request.portal == EBP):
            failures[budget] = failures.get(budget, 0) + 1
            raise Unauthenticated(INVALID_CREDENTIALS)
        assert user is not None
        failures.pop(budget, None)
        home = self.home_portal(user)
        answer = identity_pb2.AuthenticateResponse(principal=self.principal(user), home_portal=home)
        device = f"fake-device.{secrets.token_urlsafe(16)}"
        self.device_tokens[device] = user.user_id
        answer.device.CopyFrom(identity_pb2.DeviceToken(
            token=device, expires_at=_timestamp(datetime.now(UTC) + DEVICE_TOKEN_LIFETIME)))
        if home == request.portal:
            answer.session.CopyFrom(self.open_session(user, request.portal))
        else:
            ticket = secrets.token_urlsafe(32)
            self.tickets[ticket] = (user.user_id, home)
            answer.handoff_ticket = ticket
        return answer

    def ValidateSession(self, request, context):  # type: ignore[no-untyped-def]
        self.calls.append("ValidateSession")
        self.request_ids.append(request_id_var.get())
        user = self.session_user(request.token, self._portal(request.portal))
        return identity_pb2.ValidateSessionResponse(principal=self.principal(user),
                                                    session=self.session_message(request.token))

    def SignOut(self, request, context):  # type: ignore[no-untyped-def]
        self._limit("SignOut")
        self.sessions.pop(request.token, None)
        self.session_opened.pop(request.token, None)
        return identity_pb2.SignOutResponse()

    def RedeemHandoffTicket(self, request, context):  # type: ignore[no-untyped-def]
        self.calls.append("RedeemHandoffTicket")
        self.client_addresses.append(("RedeemHandoffTicket", request.client_address))
        self._portal(request.portal)
        with self.lock:
            entry = self.tickets.pop(request.ticket, None)  # used up by any attempt
        if entry is None or entry[1] != request.portal:
            raise Unauthenticated(INVALID_TICKET)
        user = self.users[entry[0]]
        return identity_pb2.RedeemHandoffTicketResponse(
            principal=self.principal(user), session=self.open_session(user, request.portal))

    def RequestPasswordReset(self, request, context):  # type: ignore[no-untyped-def]
        self.calls.append("RequestPasswordReset")
        self.client_addresses.append(("RequestPasswordReset", request.client_address))
        self._portal(request.portal)
        if not request.login.strip():
            raise InvalidArgument("Enter your user ID.", field="login")
        self._refuse_if_switched_on("RequestPasswordReset")
        self.reset_requests.append((request.login, request.portal))
        user = self.find(request.login)
        if user is not None:  # unknown user IDs get the same answer, and no mail (S7)
            self.sent_reset_links.append((user.email, request.portal, self.issue_reset_token(request.login)))
        return identity_pb2.RequestPasswordResetResponse()

    def CheckPasswordResetToken(self, request, context):  # type: ignore[no-untyped-def]
        return identity_pb2.CheckPasswordResetTokenResponse(valid=request.token in self.reset_tokens)

    def CompletePasswordReset(self, request, context):  # type: ignore[no-untyped-def]
        if request.token not in self.reset_tokens:
            raise FailedPrecondition(INVALID_RESET_LINK, field="token")
        # The policy first: a refused password leaves the link usable for another try.
        self._check_new_password(request.new_password)
        with self.lock:
            user_id = self.reset_tokens.pop(request.token, None)
        if user_id is None:
            raise FailedPrecondition(INVALID_RESET_LINK, field="token")
        user = self.users[user_id]
        user.password = request.new_password
        self.end_sessions(user.user_id)
        return identity_pb2.CompletePasswordResetResponse()

    def ChangePassword(self, request, context):  # type: ignore[no-untyped-def]
        user = self.session_user(request.session_token, self._portal(request.portal))
        if user.password is None or request.current_password != user.password:
            raise InvalidArgument("The current password is not correct.", field="current_password")
        self._check_new_password(request.new_password)
        user.password = request.new_password
        self.end_sessions(user.user_id, keep=request.session_token)
        return identity_pb2.ChangePasswordResponse()

    def _billing_contacts(self, account_id: str) -> list[FakeUser]:
        contacts = [u for u in self.users.values() if u.account_id == account_id and u.role == CONTACT]
        return sorted(contacts, key=lambda u: (u.name, u.user_id))

    def GetAccount(self, request, context):  # type: ignore[no-untyped-def]
        self._limit("GetAccount")
        if not request.account_id:
            raise InvalidArgument("An account id is required.", field="account_id")
        account = self.accounts.get(request.account_id)
        if account is None:
            raise NotFound("No such account.", field="account_id")
        contacts = [identity_pb2.Contact(user_id=u.user_id, name=u.name, email=u.email, locale=u.locale)
                    for u in self._billing_contacts(request.account_id)]
        return identity_pb2.GetAccountResponse(account=account, billing_contacts=contacts)

    def ContactBillingAdministrator(self, request, context):  # type: ignore[no-untyped-def]
        self.calls.append("ContactBillingAdministrator")
        user = self.session_user(request.session_token, self._portal(request.portal))
        if user.role != MEMBER:
            raise FailedPrecondition("Only members who are not billing contacts send this message.")
        note = validate_text(request.note, "note", max_length=limits.MAX_NOTE, required=False, multiline=True)
        self._refuse_if_switched_on("ContactBillingAdministrator")
        contacts = self._billing_contacts(user.account_id)
        if not contacts:
            raise FailedPrecondition("Your account has no billing contact yet. Please contact Customer Care.")
        self.admin_mails.append((user.user_id, note))
        return identity_pb2.ContactBillingAdministratorResponse(recipients=len(contacts))

    def ContactCustomerCare(self, request, context):  # type: ignore[no-untyped-def]
        self.calls.append("ContactCustomerCare")
        self.client_addresses.append(("ContactCustomerCare", request.client_address))
        self._portal(request.portal)
        # identity's own checks and limits: the fake cannot accept what identity refuses.
        mail = {"name": validate_text(request.name, "name", max_length=limits.MAX_NAME),
                "email": validate_email(request.email),
                "subject": validate_text(request.subject, "subject", max_length=limits.MAX_SUBJECT),
                "message": validate_text(request.message, "message", max_length=limits.MAX_MESSAGE, multiline=True)}
        self._refuse_if_switched_on("ContactCustomerCare")
        self.care_mails.append(mail)
        return identity_pb2.ContactCustomerCareResponse()

    def ListRepAccounts(self, request, context):  # type: ignore[no-untyped-def]
        user = self.session_user(request.session_token, self._portal(request.portal))
        if user.role != REP:
            raise PermissionDenied("Only the vendor's representatives have a list of accounts.")
        accounts = sorted((self.accounts[a] for a in self.rep_accounts.get(user.user_id, [])),
                          key=lambda a: (a.name, a.account_id))
        return identity_pb2.ListRepAccountsResponse(accounts=accounts)


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

    # What a member's landing page reads (its change request form): these pages' tests need no
    # subscription page, so none is found and no request was made (the real service's pages are
    # tested in tests/integration/web).
    def GetSubscription(self, request, context):  # type: ignore[no-untyped-def]
        raise NotFound("no subscription")

    def ListChangeRequests(self, request, context):  # type: ignore[no-untyped-def]
        return online_billing_pb2.ListChangeRequestsResponse()


def demo_online_billing() -> FakeOnlineBilling:
    end = Timestamp()
    end.FromDatetime(datetime(2027, 3, 15, tzinfo=UTC))
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
                        ["billing.identity.v1.IdentityService"], workers=8, grace=0,
                        gate=callers.gate(IDENTITY_CALLERS)).start()


def serve_online_billing(servicer: FakeOnlineBilling) -> GrpcServer:
    return build_server(
        "127.0.0.1:0", lambda s: online_billing_pb2_grpc.add_OnlineBillingServiceServicer_to_server(servicer, s),
        ["billing.online_billing.v1.OnlineBillingService"], workers=4, grace=0,
        gate=callers.gate(ONLINE_BILLING_CALLERS)).start()


def serve_enterprise_portal(servicer: FakeEnterprisePortal) -> GrpcServer:
    return build_server(
        "127.0.0.1:0",
        lambda s: enterprise_portal_pb2_grpc.add_EnterprisePortalServiceServicer_to_server(servicer, s),
        ["billing.enterprise_portal.v1.EnterprisePortalService"], workers=4, grace=0,
        gate=callers.gate(ENTERPRISE_PORTAL_CALLERS)).start()
