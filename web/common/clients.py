"""The web tier's gRPC adapters: channels opened lazily, once per process, after the fork.

gunicorn forks its workers from the master; a gRPC channel opened before the fork is not
usable in the child, so nothing here connects at import or in create_app: the first request
a worker serves opens the channels, and a changed process id opens them again.

Each front door has one typed client of its own backend (web/<door>/backend.py), built on
`GrpcClient` like the `Identity` client below: views call methods that return plain view
objects, never stubs or protos.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Generic, TypeVar

import grpc
from grpc_health.v1 import health_pb2

from billing.identity.v1 import identity_pb2, identity_pb2_grpc
from billing_common.grpc_client import check_health, make_channel
from billing_common.money import Money
from billing_common.money_proto import from_proto
from billing_common.service_auth import CallerCredentials

HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


class LazyChannel:
    """One channel per process, opened on first use (thread-safe for gthread workers)."""

    def __init__(self, target: str, idempotent: Iterable[tuple[str, str]], timeout: float,
                 credentials: CallerCredentials) -> None:
        self.target = target
        self.credentials = credentials
        # Readiness probes are reads too; a set keeps each method configured once.
        self.idempotent = sorted({*idempotent, (HEALTH_SERVICE, "Check")})
        self.timeout = timeout
        self._lock = threading.Lock()
        self._channel: grpc.Channel | None = None
        self._pid: int | None = None

    @property
    def opened(self) -> bool:
        """Whether this process has its own channel (one inherited through fork does not count)."""
        return self._channel is not None and self._pid == os.getpid()

    def get(self) -> grpc.Channel:
        if not self.opened:
            with self._lock:
                if not self.opened:
                    # A channel inherited through fork is dropped, not closed: closing it
                    # would touch the parent's threads.
                    self._channel = make_channel(
                        self.target, credentials=self.credentials, idempotent=self.idempotent,
                        default_timeout=self.timeout,
                    )
                    self._pid = os.getpid()
        return self._channel  # type: ignore[return-value]

    def close(self) -> None:
        """Closes this process's channel (gunicorn's worker_exit hook calls it)."""
        with self._lock:
            if self.opened:
                self._channel.close()  # type: ignore[union-attr]
            self._channel = None

    def health(self, service: str, timeout: float = 1.0) -> bool:
        """True when the server says `service` is SERVING (grpc.health.v1)."""
        return check_health(self.get(), service, timeout)


StubT = TypeVar("StubT")


class GrpcClient(Generic[StubT]):
    """A typed client of one gRPC service: a subclass names the service, its generated stub
    class and its read-only methods (the channel may retry those on UNAVAILABLE, S22), and
    wraps each RPC it uses. Every call carries this door's `credentials` (service_auth)."""

    service: ClassVar[str]
    # The generated stub class (not a ClassVar: mypy cannot type one with StubT).
    stub_class: Callable[[grpc.Channel], StubT]
    idempotent: ClassVar[tuple[str, ...]] = ()

    def __init__(self, target: str, timeout: float, credentials: CallerCredentials) -> None:
        self.channel = LazyChannel(target, [(self.service, m) for m in self.idempotent], timeout, credentials)
        self._built: tuple[grpc.Channel, StubT] | None = None

    @property
    def stub(self) -> StubT:
        """The stub on this process's channel, built once per channel (about 50 µs each time,
        twice on every signed-in page otherwise). Two threads racing here build two; either works."""
        channel = self.channel.get()
        built = self._built
        if built is None or built[0] is not channel:
            built = self._built = (channel, self.stub_class(channel))
        return built[1]

    def ready(self) -> bool:
        """Readiness: the server reports this service SERVING."""
        return self.channel.health(self.service)

    def close(self) -> None:
        self.channel.close()


@dataclass(frozen=True)
class Contact:
    name: str
    email: str


@dataclass(frozen=True)
class AccountView:
    account_id: str
    name: str
    kind: identity_pb2.AccountKind.ValueType
    status: str
    currency: str
    billing_contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class BillingContactView:
    """A billing contact of an enterprise account, as the Billing contacts page shows it."""

    user_id: str
    login: str
    name: str
    email: str
    primary: bool
    has_password: bool
    last_sign_in_at: datetime | None


@dataclass(frozen=True)
class HandoverView:
    """A handover waiting for approval: who proposed whom to replace whom, until when."""

    handover_id: str
    account_id: str
    account_name: str
    proposer_user_id: str
    proposer_name: str
    replaced_user_id: str
    replaced_name: str
    replaced_email: str
    new_login: str
    new_email: str
    new_name: str
    status: str
    expires_at: datetime | None


@dataclass(frozen=True)
class NewContact:
    login: str
    email: str
    name: str
    locale: str = ""


class Identity(GrpcClient[identity_pb2_grpc.IdentityServiceStub]):
    """identity.v1 as the portals use it; every method is one RPC with this portal's id."""

    service = identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name
    stub_class = identity_pb2_grpc.IdentityServiceStub
    idempotent = ("ValidateSession", "GetAccount", "ListRepAccounts", "CheckPasswordResetToken",
                  "ListBillingContacts", "ListHandovers")

    def __init__(self, target: str, timeout: float, credentials: CallerCredentials,
                 portal: identity_pb2.Portal.ValueType) -> None:
        super().__init__(target, timeout, credentials)
        self.portal = portal

    def authenticate(self, login: str, password: str, client_address: str, device_token: str = ""
                     ) -> identity_pb2.AuthenticateResponse:
        return self.stub.Authenticate(identity_pb2.AuthenticateRequest(
            login=login, password=password, portal=self.portal, client_address=client_address,
            device_token=device_token))

    def validate_session(self, token: str) -> identity_pb2.ValidateSessionResponse:
        return self.stub.ValidateSession(identity_pb2.ValidateSessionRequest(token=token, portal=self.portal))

    def sign_out(self, token: str) -> None:
        self.stub.SignOut(identity_pb2.SignOutRequest(token=token))

    def redeem_handoff_ticket(self, ticket: str, client_address: str) -> identity_pb2.RedeemHandoffTicketResponse:
        return self.stub.RedeemHandoffTicket(identity_pb2.RedeemHandoffTicketRequest(
            ticket=ticket, portal=self.portal, client_address=client_address))

    def request_password_reset(self, login: str, client_address: str) -> None:
        self.stub.RequestPasswordReset(identity_pb2.RequestPasswordResetRequest(
            login=login, portal=self.portal, client_address=client_address))

    def reset_token_is_valid(self, token: str) -> bool:
        return self.stub.CheckPasswordResetToken(
            identity_pb2.CheckPasswordResetTokenRequest(token=token)).valid

    def complete_password_reset(self, token: str, new_password: str) -> None:
        self.stub.CompletePasswordReset(identity_pb2.CompletePasswordResetRequest(
            token=token, new_password=new_password))

    def change_password(self, session_token: str, current_password: str, new_password: str) -> None:
        self.stub.ChangePassword(identity_pb2.ChangePasswordRequest(
            session_token=session_token, portal=self.portal,
            current_password=current_password, new_password=new_password))

    def get_account(self, account_id: str) -> AccountView:
        answer = self.stub.GetAccount(identity_pb2.GetAccountRequest(account_id=account_id))
        return _account(answer.account, answer.billing_contacts)

    def contact_billing_administrator(self, session_token: str, note: str) -> int:
        return self.stub.ContactBillingAdministrator(identity_pb2.ContactBillingAdministratorRequest(
            session_token=session_token, portal=self.portal, note=note)).recipients

    def contact_customer_care(self, *, name: str, email: str, subject: str, message: str,
                              client_address: str) -> None:
        self.stub.ContactCustomerCare(identity_pb2.ContactCustomerCareRequest(
            name=name, email=email, subject=subject, message=message,
            portal=self.portal, client_address=client_address))

    def list_rep_accounts(self, session_token: str) -> list[AccountView]:
        answer = self.stub.ListRepAccounts(identity_pb2.ListRepAccountsRequest(
            session_token=session_token, portal=self.portal))
        return [_account(a, ()) for a in answer.accounts]

    # --- billing contacts of an enterprise account (the Enterprise portal's pages) -------------
    def list_billing_contacts(self, session_token: str, account_id: str) -> list[BillingContactView]:
        answer = self.stub.ListBillingContacts(identity_pb2.ListBillingContactsRequest(
            session_token=session_token, portal=self.portal, account_ids=[account_id]))
        return [BillingContactView(user_id=c.user_id, login=c.login, name=c.name, email=c.email, primary=c.primary,
                                   has_password=c.has_password,
                                   last_sign_in_at=timestamp(c.last_sign_in_at)
                                   if c.HasField("last_sign_in_at") else None)
                for a in answer.accounts for c in a.contacts]

    def add_billing_contact(self, session_token: str, account_id: str, person: NewContact) -> str:
        return self.stub.AddBillingContact(identity_pb2.AddBillingContactRequest(
            session_token=session_token, portal=self.portal, account_id=account_id, login=person.login,
            email=person.email, name=person.name, locale=person.locale)).user_id

    def remove_billing_contact(self, session_token: str, account_id: str, user_id: str) -> None:
        self.stub.RemoveBillingContact(identity_pb2.RemoveBillingContactRequest(
            session_token=session_token, portal=self.portal, account_id=account_id, user_id=user_id))

    def set_primary_billing_contact(self, session_token: str, account_id: str, user_id: str) -> None:
        self.stub.SetPrimaryBillingContact(identity_pb2.SetPrimaryBillingContactRequest(
            session_token=session_token, portal=self.portal, account_id=account_id, user_id=user_id))

    def propose_handover(self, session_token: str, account_id: str, replaced_user_id: str,
                         person: NewContact) -> HandoverView:
        return _handover(self.stub.ProposeHandover(identity_pb2.ProposeHandoverRequest(
            session_token=session_token, portal=self.portal, account_id=account_id,
            replaced_user_id=replaced_user_id, login=person.login, email=person.email, name=person.name,
            locale=person.locale)).handover)

    def list_handovers(self, session_token: str, account_id: str = "") -> list[HandoverView]:
        answer = self.stub.ListHandovers(identity_pb2.ListHandoversRequest(
            session_token=session_token, portal=self.portal, account_id=account_id))
        return [_handover(h) for h in answer.handovers]

    def decide_handover(self, session_token: str, account_id: str, handover_id: str, approve: bool
                        ) -> HandoverView:
        return _handover(self.stub.DecideHandover(identity_pb2.DecideHandoverRequest(
            session_token=session_token, portal=self.portal, account_id=account_id, handover_id=handover_id,
            approve=approve)).handover)


def _handover(h: identity_pb2.Handover) -> HandoverView:
    return HandoverView(
        handover_id=h.handover_id, account_id=h.account_id, account_name=h.account_name,
        proposer_user_id=h.proposer_user_id, proposer_name=h.proposer_name, replaced_user_id=h.replaced_user_id,
        replaced_name=h.replaced_name, replaced_email=h.replaced_email, new_login=h.new_login,
        new_email=h.new_email, new_name=h.new_name, status=h.status,
        expires_at=timestamp(h.expires_at) if h.HasField("expires_at") else None,
    )


def _account(account: identity_pb2.Account, contacts: Iterable[identity_pb2.Contact]) -> AccountView:
    return AccountView(
        account_id=account.account_id, name=account.name, kind=account.kind, status=account.status,
        currency=account.currency,
        billing_contacts=tuple(Contact(name=c.name, email=c.email) for c in contacts),
    )


def money(proto: object) -> Money | None:
    """A billing.common.v1.Money as the shared Money type (None when absent or unknown)."""
    currency = getattr(proto, "currency", "")
    if not currency:
        return None
    try:
        return from_proto(proto)  # type: ignore[arg-type]
    except ValueError:
        return None


def timestamp(proto: object) -> datetime | None:
    """A google.protobuf.Timestamp as an aware UTC datetime (None when unset)."""
    if not getattr(proto, "seconds", 0):
        return None
    return proto.ToDatetime(tzinfo=UTC)  # type: ignore[attr-defined]
