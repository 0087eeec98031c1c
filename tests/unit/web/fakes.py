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
    AlreadyExists,
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
from services.identity.domain.contacts import (
    Handover,
    HandoverStatus,
    check_decider,
    check_recent_sign_in,
    check_removal,
)
from services.identity.domain.model import validate_email, validate_text
from services.identity.entrypoints.grpc_server import ALLOWED_CALLERS as IDENTITY_CALLERS
from services.identity.entrypoints.grpc_server import check_own_portal
from services.identity.service_layer.billing_contacts import new_person
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
    # Billing contacts of enterprise accounts (identity's billing_contacts.py, the same rules):
    # account id -> primary user id; handovers by id; last sign-ins; the notices "mailed"
    # as (email, what changed); the audit log as (actor, action, user id).
    primary: dict[str, str] = field(default_factory=dict)
    handovers: dict[str, Handover] = field(default_factory=dict)
    last_sign_in: dict[str, datetime] = field(default_factory=dict)
    contact_notices: list[tuple[str, str]] = field(default_factory=list)
    audit: list[tuple[str, str, str]] = field(default_factory=list)
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
        # Someone removed from their account (and no rep) signs in nowhere, as at identity.
        wrong = wrong or (user is not None and user.role != REP and not user.account_id)
        # The seed: at the Enterprise door, someone who is not a billing contact is refused alike.
        if wrong or (user.role == MEMBER and request.portal == EBP):
            failures[budget] = failures.get(budget, 0) + 1
            raise Unauthenticated(INVALID_CREDENTIALS)
        assert user is not None
        failures.pop(budget, None)
        self.last_sign_in[user.user_id] = datetime.now(UTC)
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

    # --- billing contacts and handovers (identity's service_layer/billing_contacts.py) -----------
    def _acting(self, request, change: bool) -> FakeUser:  # type: ignore[no-untyped-def]
        user = self.session_user(request.session_token, self._portal(request.portal))
        if change:
            check_recent_sign_in(self.session_opened[request.session_token], datetime.now(UTC))
        return user

    def _account_for(self, actor: FakeUser, account_id: str, rep_may: bool) -> identity_pb2.Account:
        if not account_id:
            raise InvalidArgument("An account id is required.", field="account_id")
        account = self.accounts.get(account_id)
        if account is None or account.kind != identity_pb2.ACCOUNT_KIND_ENTERPRISE:
            raise NotFound("No such account.", field="account_id")
        if actor.role == REP:
            if account_id not in self.rep_accounts.get(actor.user_id, []):
                raise NotFound("No such account.", field="account_id")
            if not rep_may:
                raise PermissionDenied("The account's billing contacts make this change.")
            return account
        if actor.account_id != account_id:
            raise NotFound("No such account.", field="account_id")
        if actor.role != CONTACT:
            raise PermissionDenied("Only billing contacts change the billing contacts.")
        return account

    def _contact_of(self, account_id: str, user_id: str, field_name: str = "user_id") -> FakeUser:
        user = self.users.get(user_id)
        if user is None or user.account_id != account_id or user.role != CONTACT:
            raise NotFound("No such billing contact on this account.", field=field_name)
        return user

    def _check_free(self, login: str, email: str) -> None:
        if self.find(login) is not None:
            raise AlreadyExists("This user ID is already in use.", field="login")
        if email.lower() != login.lower() and self.find(email) is not None:
            raise AlreadyExists("This email address is already in use.", field="email")

    def _notify(self, account_id: str, change: str, *also: FakeUser | None) -> None:
        people = {u.user_id: u for u in (*self._billing_contacts(account_id), *(a for a in also if a))}
        self.contact_notices.extend((u.email, change) for u in people.values())

    def _provision(self, person, account: identity_pb2.Account) -> FakeUser:  # type: ignore[no-untyped-def]
        self._check_free(person.login, person.email)
        user = self.add_user(FakeUser(f"u-{secrets.token_hex(6)}", person.login, person.email, person.name, None,
                                      CONTACT, account.account_id, person.locale))
        # The "create your password" link, to the Enterprise portal (the same mailbox as resets).
        token = self.issue_reset_token(user.login)
        self.sent_reset_links.append((user.email, EBP, token))
        return user

    def _handover_message(self, h: Handover) -> identity_pb2.Handover:
        proposer, replaced = self.users.get(h.proposer_id), self.users.get(h.replaced_user_id)
        return identity_pb2.Handover(
            handover_id=h.id, account_id=h.account_id, account_name=self.accounts[h.account_id].name,
            proposer_user_id=h.proposer_id, proposer_name=proposer.name if proposer else "",
            replaced_user_id=h.replaced_user_id, replaced_name=replaced.name if replaced else "",
            replaced_email=replaced.email if replaced else "", new_login=h.new_login, new_email=h.new_email,
            new_name=h.new_name, status=h.status_at(datetime.now(UTC)).value,
            proposed_at=_timestamp(h.proposed_at), expires_at=_timestamp(h.expires_at))

    def ListBillingContacts(self, request, context):  # type: ignore[no-untyped-def]
        # As a portal calls it: one account, for the session's person (online_billing's batch
        # calls without a session are not the portals' and not faked here).
        self._limit("ListBillingContacts")
        if len(request.account_ids) != 1:
            raise InvalidArgument("Name exactly one account.", field="account_ids")
        account = self._account_for(self._acting(request, False), request.account_ids[0], rep_may=True)
        contacts = []
        for u in self._billing_contacts(account.account_id):
            c = identity_pb2.Contact(user_id=u.user_id, login=u.login, name=u.name, email=u.email,
                                     locale=u.locale, primary=self.primary.get(account.account_id) == u.user_id,
                                     has_password=u.password is not None)
            if u.user_id in self.last_sign_in:
                c.last_sign_in_at.CopyFrom(_timestamp(self.last_sign_in[u.user_id]))
            contacts.append(c)
        return identity_pb2.ListBillingContactsResponse(accounts=[
            identity_pb2.AccountBillingContacts(account_id=account.account_id, contacts=contacts)])

    def AddBillingContact(self, request, context):  # type: ignore[no-untyped-def]
        self._limit("AddBillingContact")
        actor = self._acting(request, True)
        account = self._account_for(actor, request.account_id, rep_may=False)
        person = new_person(request.login, request.email, request.name, request.locale, account.locale)
        user = self._provision(person, account)
        self.audit.append((actor.user_id, "billing_contact.added", user.user_id))
        self._notify(account.account_id, "added")
        return identity_pb2.AddBillingContactResponse(user_id=user.user_id)

    def RemoveBillingContact(self, request, context):  # type: ignore[no-untyped-def]
        self._limit("RemoveBillingContact")
        actor = self._acting(request, True)
        account = self._account_for(actor, request.account_id, rep_may=False)
        removed = self._contact_of(account.account_id, request.user_id)
        check_removal([u.user_id for u in self._billing_contacts(account.account_id)],
                      self.primary.get(account.account_id), removed.user_id)
        removed.account_id, removed.role = "", identity_pb2.ROLE_UNSPECIFIED
        self.end_sessions(removed.user_id)
        self.audit.append((actor.user_id, "billing_contact.removed", removed.user_id))
        self._notify(account.account_id, "removed", removed)
        return identity_pb2.RemoveBillingContactResponse()

    def SetPrimaryBillingContact(self, request, context):  # type: ignore[no-untyped-def]
        self._limit("SetPrimaryBillingContact")
        actor = self._acting(request, True)
        account = self._account_for(actor, request.account_id, rep_may=False)
        chosen = self._contact_of(account.account_id, request.user_id)
        if self.primary.get(account.account_id) != chosen.user_id:
            self.primary[account.account_id] = chosen.user_id
            self.audit.append((actor.user_id, "billing_contact.made_primary", chosen.user_id))
            self._notify(account.account_id, "primary")
        return identity_pb2.SetPrimaryBillingContactResponse()

    def ProposeHandover(self, request, context):  # type: ignore[no-untyped-def]
        self._limit("ProposeHandover")
        actor = self._acting(request, True)
        account = self._account_for(actor, request.account_id, rep_may=False)
        replaced = self._contact_of(account.account_id, request.replaced_user_id, "replaced_user_id")
        person = new_person(request.login, request.email, request.name, request.locale, account.locale)
        self._check_free(person.login, person.email)
        now = datetime.now(UTC)
        if any(h.replaced_user_id == replaced.user_id and h.is_open(now) for h in self.handovers.values()):
            raise FailedPrecondition("A handover of this contact is already waiting for approval.",
                                     field="replaced_user_id")
        h = Handover(f"h-{secrets.token_hex(6)}", account.account_id, actor.user_id, replaced.user_id,
                     person.login, person.email, person.name, person.locale, proposed_at=now)
        self.handovers[h.id] = h
        self.audit.append((actor.user_id, "handover.proposed", replaced.user_id))
        self._notify(account.account_id, "handover_proposed")
        return identity_pb2.ProposeHandoverResponse(handover=self._handover_message(h))

    def ListHandovers(self, request, context):  # type: ignore[no-untyped-def]
        self._limit("ListHandovers")
        actor = self._acting(request, False)
        if actor.role == REP and not request.account_id:
            accounts = [a for a in self.rep_accounts.get(actor.user_id, [])
                        if self.accounts[a].kind == identity_pb2.ACCOUNT_KIND_ENTERPRISE]
        else:
            accounts = [self._account_for(actor, request.account_id, rep_may=True).account_id]
        now = datetime.now(UTC)
        waiting = sorted((h for h in self.handovers.values() if h.account_id in accounts and h.is_open(now)),
                         key=lambda h: (h.proposed_at, h.id))
        return identity_pb2.ListHandoversResponse(handovers=[self._handover_message(h) for h in waiting])

    def DecideHandover(self, request, context):  # type: ignore[no-untyped-def]
        self._limit("DecideHandover")
        actor = self._acting(request, True)
        account = self._account_for(actor, request.account_id, rep_may=True)
        h = self.handovers.get(request.handover_id)
        if h is None or h.account_id != account.account_id:
            raise NotFound("No such handover.", field="handover_id")
        now = datetime.now(UTC)
        check_decider(h, actor.user_id, actor_is_rep=actor.role == REP,
                      contact_ids=[u.user_id for u in self._billing_contacts(account.account_id)],
                      approve=request.approve, now=now)
        replaced = self.users.get(h.replaced_user_id)
        if request.approve:
            if replaced is None or replaced.account_id != account.account_id:
                raise FailedPrecondition("The person to replace is no longer a billing contact of the account.",
                                         field="handover_id")
            person = new_person(h.new_login, h.new_email, h.new_name, h.new_locale, account.locale)
            new_user = self._provision(person, account)
            if self.primary.get(account.account_id) == replaced.user_id:
                self.primary[account.account_id] = new_user.user_id
            replaced.account_id, replaced.role = "", identity_pb2.ROLE_UNSPECIFIED
            self.end_sessions(replaced.user_id)
            h.status, h.new_user_id = HandoverStatus.APPROVED, new_user.user_id
        else:
            h.status = HandoverStatus.DECLINED
        h.decided_at, h.decided_by = now, actor.user_id
        self.audit.append((actor.user_id, f"handover.{h.status.value}", h.replaced_user_id))
        self._notify(account.account_id, f"handover_{h.status.value}", replaced, self.users.get(h.proposer_id))
        return identity_pb2.DecideHandoverResponse(handover=self._handover_message(h))


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
