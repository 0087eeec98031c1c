"""The identity gRPC server: a thin servicer over the service layer, and `build`/`serve`.

Each method turns the request into arguments, calls one use case and builds the response.
Domain errors are mapped to statuses by billing_common's interceptor, never here.
"""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common import limits
from billing_common.clock import Clock, SystemClock
from billing_common.errors import InvalidArgument, PermissionDenied
from billing_common.grpc_server import GrpcServer
from billing_common.service import build_service
from billing_common.service_auth import (
    ACTING_PERSON_HEADER,
    BILLING_CENTER_WEB,
    ENTERPRISE_PORTAL,
    ENTERPRISE_PORTAL_WEB,
    ONLINE_BILLING,
    OPERATOR,
    PORTALS,
    acting_person,
    allow_list,
    caller_var,
)
from services.identity import bootstrap
from services.identity.adapters import orm
from services.identity.config import IdentitySettings
from services.identity.domain.model import Account, AccountKind, Portal, Principal, Role, User
from services.identity.service_layer import (
    accounts,
    authentication,
    billing_contacts,
    contact,
    passwords,
    provisioning,
    sessions,
)
from services.identity.service_layer.dependencies import Dependencies
from services.identity.service_layer.ports import KeyValueStore, PasswordHasher

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["IdentityService"].full_name

# Who may call what (billing_common.service_auth): the portals the calls of the people using
# them, operator commands and the demo loader provisioning. A method missing here admits nobody.
ALLOWED_CALLERS = allow_list(SERVICE_NAME, {
    **{method: PORTALS for method in (
        "Authenticate", "ValidateSession", "SignOut", "RedeemHandoffTicket",
        "RequestPasswordReset", "CheckPasswordResetToken", "CompletePasswordReset", "ChangePassword",
        "GetAccount", "ContactBillingAdministrator", "ContactCustomerCare", "ListRepAccounts")},
    # Billing contacts and handovers are the Enterprise portal's pages only.
    **{method: {ENTERPRISE_PORTAL_WEB} for method in (
        "AddBillingContact", "RemoveBillingContact", "SetPrimaryBillingContact",
        "ProposeHandover", "ListHandovers", "DecideHandover")},
    **{method: {OPERATOR} for method in (
        "CreateAccount", "CreateUser", "AddMembership", "RemoveMembership", "AssignRep")},
    # online_billing mails the billing contacts of the accounts it bills (receipts, dunning); the
    # Enterprise portal's Billing contacts page lists one account's, for a signed-in person.
    "ListBillingContacts": {ONLINE_BILLING, ENTERPRISE_PORTAL, ENTERPRISE_PORTAL_WEB},
})

_PORTALS = {pb.PORTAL_BILLING_CENTER: Portal.BILLING_CENTER, pb.PORTAL_ENTERPRISE: Portal.ENTERPRISE}
_PORTALS_OUT = {v: k for k, v in _PORTALS.items()}
_KINDS = {pb.ACCOUNT_KIND_ONLINE: AccountKind.ONLINE, pb.ACCOUNT_KIND_ENTERPRISE: AccountKind.ENTERPRISE}
_KINDS_OUT = {v: k for k, v in _KINDS.items()}
_ROLES = {pb.ROLE_BILLING_CONTACT: Role.BILLING_CONTACT, pb.ROLE_MEMBER: Role.MEMBER, pb.ROLE_REP: Role.REP}
_ROLES_OUT = {v: k for k, v in _ROLES.items()}

# The longest value each string field accepts (S24); anything longer is INVALID_ARGUMENT
# naming the field, before any work is done. What people type is bounded by billing_common.limits,
# as in the portals' forms.
FIELD_LIMITS = {
    "login": limits.MAX_USER_ID, "email": limits.MAX_EMAIL, "password": limits.MAX_PASSWORD,
    "current_password": limits.MAX_PASSWORD, "new_password": limits.MAX_PASSWORD,
    "token": limits.MAX_TOKEN, "session_token": limits.MAX_TOKEN, "ticket": limits.MAX_TOKEN,
    "device_token": limits.MAX_TOKEN,
    "client_address": 64, "note": limits.MAX_NOTE, "name": limits.MAX_NAME, "subject": limits.MAX_SUBJECT,
    "message": limits.MAX_MESSAGE, "currency": 3, "locale": 16,
    "account_id": limits.MAX_ID, "user_id": limits.MAX_ID, "rep_user_id": limits.MAX_ID,
    "replaced_user_id": limits.MAX_ID, "handover_id": limits.MAX_ID,
}
_DEFAULT_LIMIT = 1024


def _check_limits(request: Any) -> None:
    for descriptor, value in request.ListFields():
        if isinstance(value, str) and len(value) > FIELD_LIMITS.get(descriptor.name, _DEFAULT_LIMIT):
            limit = FIELD_LIMITS.get(descriptor.name, _DEFAULT_LIMIT)
            raise InvalidArgument(f"The field {descriptor.name} takes at most {limit} characters.",
                                  field=descriptor.name)


T = TypeVar("T")


def _enum(table: Mapping[Any, T], value: int, field: str) -> T:
    if value not in table:
        raise InvalidArgument(f"The field {field} must be set to a known value.", field=field)
    return table[value]


# A portal acts for its own door only: the Billing Center's secret opens no Enterprise session,
# redeems no Enterprise ticket and sends no Enterprise reset link (S11, S14).
PORTAL_OF_CALLER = {BILLING_CENTER_WEB: pb.PORTAL_BILLING_CENTER, ENTERPRISE_PORTAL_WEB: pb.PORTAL_ENTERPRISE}


def check_own_portal(value: int, field: str = "portal") -> None:
    """PermissionDenied when the calling portal names the other portal."""
    own = PORTAL_OF_CALLER.get(caller_var.get())
    if own is not None and value != own:
        raise PermissionDenied("A portal may act only for itself.", field=field)


def _portal(value: int, field: str = "portal") -> Portal:
    portal = _enum(_PORTALS, value, field)
    check_own_portal(value, field)
    return portal


def _ts(seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(int(round(seconds * 1e9)))
    return ts


def _account(a: Account) -> pb.Account:
    return pb.Account(account_id=a.id, name=a.name, kind=_KINDS_OUT[a.kind], status=a.status,
                      currency=a.currency, locale=a.locale)


def _contact(u: User, primary: bool = False) -> pb.Contact:
    return pb.Contact(user_id=u.id, name=u.name, email=u.email, locale=u.locale, primary=primary)


def _principal(p: Principal) -> pb.Principal:
    u = p.user
    return pb.Principal(user_id=u.id, login=u.login, name=u.name, email=u.email, locale=u.locale,
                        role=_ROLES_OUT[p.role], account=_account(p.account) if p.account else None)


def _dt_ts(moment: dt.datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


def _billing_contact(c: billing_contacts.BillingContact) -> pb.Contact:
    """A contact as the Billing contacts page shows it (ListBillingContacts from the portal)."""
    u = c.user
    answer = pb.Contact(user_id=u.id, login=u.login, name=u.name, email=u.email, locale=u.locale,
                        primary=c.primary, has_password=u.password_hash is not None)
    if u.last_sign_in_at is not None:
        answer.last_sign_in_at.CopyFrom(_dt_ts(u.last_sign_in_at))
    return answer


def _handover(v: billing_contacts.HandoverView) -> pb.Handover:
    h = v.handover
    return pb.Handover(
        handover_id=h.id, account_id=h.account_id, account_name=v.account.name, proposer_user_id=h.proposer_id,
        proposer_name=v.proposer.name if v.proposer else "", replaced_user_id=h.replaced_user_id,
        replaced_name=v.replaced.name if v.replaced else "", replaced_email=v.replaced.email if v.replaced else "",
        new_login=h.new_login, new_email=h.new_email, new_name=h.new_name, status=v.status.value,
        proposed_at=_dt_ts(h.proposed_at), expires_at=_dt_ts(h.expires_at),
    )


def _session(s: sessions.SessionInfo) -> pb.Session:
    return pb.Session(token=s.token, portal=_PORTALS_OUT[s.portal], authenticated_at=_ts(s.authenticated_at),
                      idle_expires_at=_ts(s.idle_expires_at), absolute_expires_at=_ts(s.absolute_expires_at))


F = TypeVar("F", bound=Callable[..., Any])


def _rpc(method: F) -> F:
    """Bounds every string field before the method runs."""

    @functools.wraps(method)
    def wrapper(self: IdentityServicer, request: Any, context: grpc.ServicerContext) -> Any:
        _check_limits(request)
        return method(self, request, context)

    return wrapper  # type: ignore[return-value]


def _acting_person(context: grpc.ServicerContext) -> str:
    """Whom a provisioning call names as acting (the audit log's actor); required."""
    person = acting_person(context.invocation_metadata())
    if not person:
        raise InvalidArgument(f"Name the person acting in the {ACTING_PERSON_HEADER} metadata.",
                              field=ACTING_PERSON_HEADER)
    return person


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps

    @_rpc
    def Authenticate(self, request: pb.AuthenticateRequest, context: grpc.ServicerContext
                     ) -> pb.AuthenticateResponse:
        r = authentication.authenticate(self.deps, request.login, request.password, _portal(request.portal),
                                        request.client_address, request.device_token)
        answer = pb.AuthenticateResponse(principal=_principal(r.principal), home_portal=_PORTALS_OUT[r.home_portal])
        if r.device:
            answer.device.CopyFrom(pb.DeviceToken(token=r.device.token, expires_at=_ts(r.device.expires_at)))
        # `result` is a oneof: setting either member, even to "", chooses it.
        if r.session:
            answer.session.CopyFrom(_session(r.session))
        elif r.handoff_ticket:
            answer.handoff_ticket = r.handoff_ticket
        return answer

    @_rpc
    def ValidateSession(self, request: pb.ValidateSessionRequest, context: grpc.ServicerContext
                        ) -> pb.ValidateSessionResponse:
        r = sessions.validate_session(self.deps, request.token, _portal(request.portal))
        return pb.ValidateSessionResponse(principal=_principal(r.principal), session=_session(r.session))

    @_rpc
    def SignOut(self, request: pb.SignOutRequest, context: grpc.ServicerContext
                ) -> pb.SignOutResponse:
        sessions.sign_out(self.deps, request.token)
        return pb.SignOutResponse()

    @_rpc
    def RedeemHandoffTicket(self, request: pb.RedeemHandoffTicketRequest, context: grpc.ServicerContext
                            ) -> pb.RedeemHandoffTicketResponse:
        r = sessions.redeem_handoff_ticket(self.deps, request.ticket, _portal(request.portal),
                                           request.client_address)
        return pb.RedeemHandoffTicketResponse(principal=_principal(r.principal), session=_session(r.session))

    @_rpc
    def RequestPasswordReset(self, request: pb.RequestPasswordResetRequest, context: grpc.ServicerContext
                             ) -> pb.RequestPasswordResetResponse:
        passwords.request_password_reset(self.deps, request.login, _portal(request.portal), request.client_address)
        return pb.RequestPasswordResetResponse()

    @_rpc
    def CheckPasswordResetToken(self, request: pb.CheckPasswordResetTokenRequest, context: grpc.ServicerContext
                                ) -> pb.CheckPasswordResetTokenResponse:
        return pb.CheckPasswordResetTokenResponse(valid=passwords.check_password_reset_token(self.deps, request.token))

    @_rpc
    def CompletePasswordReset(self, request: pb.CompletePasswordResetRequest, context: grpc.ServicerContext
                              ) -> pb.CompletePasswordResetResponse:
        passwords.complete_password_reset(self.deps, request.token, request.new_password)
        return pb.CompletePasswordResetResponse()

    @_rpc
    def ChangePassword(self, request: pb.ChangePasswordRequest, context: grpc.ServicerContext
                       ) -> pb.ChangePasswordResponse:
        passwords.change_password(self.deps, request.session_token, _portal(request.portal),
                                  request.current_password, request.new_password)
        return pb.ChangePasswordResponse()

    @_rpc
    def GetAccount(self, request: pb.GetAccountRequest, context: grpc.ServicerContext
                   ) -> pb.GetAccountResponse:
        r = accounts.get_account(self.deps, request.account_id)
        return pb.GetAccountResponse(account=_account(r.account),
                                     billing_contacts=[_contact(u) for u in r.billing_contacts])

    @_rpc
    def ListBillingContacts(self, request: pb.ListBillingContactsRequest, context: grpc.ServicerContext
                            ) -> pb.ListBillingContactsResponse:
        if caller_var.get() in PORTAL_OF_CALLER:
            # A portal asks for a person: their session decides what they may see (S13, S14).
            return self._list_for_person(request)
        found = accounts.list_billing_contacts(self.deps, list(request.account_ids))
        return pb.ListBillingContactsResponse(accounts=[
            pb.AccountBillingContacts(account_id=v.account.id, locale=v.account.locale,
                                      contacts=[_contact(u, primary=u.id == v.primary) for u in v.billing_contacts],
                                      reps=[_contact(u) for u in v.reps])
            for v in found])

    def _list_for_person(self, request: pb.ListBillingContactsRequest) -> pb.ListBillingContactsResponse:
        if len(request.account_ids) != 1:
            raise InvalidArgument("Name exactly one account.", field="account_ids")
        (account_id,) = request.account_ids
        if len(account_id) > limits.MAX_ID:
            raise InvalidArgument(f"An account id takes at most {limits.MAX_ID} characters.", field="account_ids")
        found = billing_contacts.list_billing_contacts(self.deps, request.session_token, _portal(request.portal),
                                                       account_id)
        return pb.ListBillingContactsResponse(accounts=[pb.AccountBillingContacts(
            account_id=account_id, contacts=[_billing_contact(c) for c in found])])

    @_rpc
    def ContactBillingAdministrator(self, request: pb.ContactBillingAdministratorRequest, context: grpc.ServicerContext
                                    ) -> pb.ContactBillingAdministratorResponse:
        n = contact.contact_billing_administrator(self.deps, request.session_token, _portal(request.portal),
                                                  request.note)
        return pb.ContactBillingAdministratorResponse(recipients=n)

    @_rpc
    def ContactCustomerCare(self, request: pb.ContactCustomerCareRequest, context: grpc.ServicerContext
                            ) -> pb.ContactCustomerCareResponse:
        contact.contact_customer_care(self.deps, request.name, request.email, request.subject, request.message,
                                      _portal(request.portal), request.client_address)
        return pb.ContactCustomerCareResponse()

    @_rpc
    def ListRepAccounts(self, request: pb.ListRepAccountsRequest, context: grpc.ServicerContext
                        ) -> pb.ListRepAccountsResponse:
        served = accounts.list_rep_accounts(self.deps, request.session_token, _portal(request.portal))
        return pb.ListRepAccountsResponse(accounts=[_account(a) for a in served])

    @_rpc
    def AddBillingContact(self, request: pb.AddBillingContactRequest, context: grpc.ServicerContext
                          ) -> pb.AddBillingContactResponse:
        user = billing_contacts.add_billing_contact(
            self.deps, request.session_token, _portal(request.portal), request.account_id, request.login,
            request.email, request.name, request.locale)
        return pb.AddBillingContactResponse(user_id=user.id)

    @_rpc
    def RemoveBillingContact(self, request: pb.RemoveBillingContactRequest, context: grpc.ServicerContext
                             ) -> pb.RemoveBillingContactResponse:
        billing_contacts.remove_billing_contact(self.deps, request.session_token, _portal(request.portal),
                                                request.account_id, request.user_id)
        return pb.RemoveBillingContactResponse()

    @_rpc
    def SetPrimaryBillingContact(self, request: pb.SetPrimaryBillingContactRequest, context: grpc.ServicerContext
                                 ) -> pb.SetPrimaryBillingContactResponse:
        billing_contacts.set_primary_billing_contact(self.deps, request.session_token, _portal(request.portal),
                                                     request.account_id, request.user_id)
        return pb.SetPrimaryBillingContactResponse()

    @_rpc
    def ProposeHandover(self, request: pb.ProposeHandoverRequest, context: grpc.ServicerContext
                        ) -> pb.ProposeHandoverResponse:
        h = billing_contacts.propose_handover(
            self.deps, request.session_token, _portal(request.portal), request.account_id,
            request.replaced_user_id, request.login, request.email, request.name, request.locale)
        return pb.ProposeHandoverResponse(handover=pb.Handover(
            handover_id=h.id, account_id=h.account_id, proposer_user_id=h.proposer_id,
            replaced_user_id=h.replaced_user_id, new_login=h.new_login, new_email=h.new_email,
            new_name=h.new_name, status=h.status.value, proposed_at=_dt_ts(h.proposed_at),
            expires_at=_dt_ts(h.expires_at)))

    @_rpc
    def ListHandovers(self, request: pb.ListHandoversRequest, context: grpc.ServicerContext
                      ) -> pb.ListHandoversResponse:
        found = billing_contacts.list_handovers(self.deps, request.session_token, _portal(request.portal),
                                                request.account_id)
        return pb.ListHandoversResponse(handovers=[_handover(v) for v in found])

    @_rpc
    def DecideHandover(self, request: pb.DecideHandoverRequest, context: grpc.ServicerContext
                       ) -> pb.DecideHandoverResponse:
        h = billing_contacts.decide_handover(self.deps, request.session_token, _portal(request.portal),
                                             request.account_id, request.handover_id, request.approve)
        return pb.DecideHandoverResponse(handover=pb.Handover(
            handover_id=h.id, account_id=h.account_id, proposer_user_id=h.proposer_id,
            replaced_user_id=h.replaced_user_id, new_login=h.new_login, new_email=h.new_email,
            new_name=h.new_name, status=h.status.value, proposed_at=_dt_ts(h.proposed_at),
            expires_at=_dt_ts(h.expires_at)))

    @_rpc
    def CreateAccount(self, request: pb.CreateAccountRequest, context: grpc.ServicerContext
                      ) -> pb.CreateAccountResponse:
        a = provisioning.create_account(self.deps, request.name, _enum(_KINDS, request.kind, "kind"),
                                        request.currency, request.locale, by=_acting_person(context))
        return pb.CreateAccountResponse(account=_account(a))

    @_rpc
    def CreateUser(self, request: pb.CreateUserRequest, context: grpc.ServicerContext
                   ) -> pb.CreateUserResponse:
        u = provisioning.create_user(self.deps, request.login, request.email, request.name, request.locale,
                                     request.password, request.staff, by=_acting_person(context))
        return pb.CreateUserResponse(user_id=u.id)

    @_rpc
    def AddMembership(self, request: pb.AddMembershipRequest, context: grpc.ServicerContext
                      ) -> pb.AddMembershipResponse:
        provisioning.add_membership(self.deps, request.user_id, request.account_id, _enum(_ROLES, request.role, "role"),
                                    by=_acting_person(context))
        return pb.AddMembershipResponse()

    @_rpc
    def RemoveMembership(self, request: pb.RemoveMembershipRequest, context: grpc.ServicerContext
                         ) -> pb.RemoveMembershipResponse:
        provisioning.remove_membership(self.deps, request.user_id, request.account_id, by=_acting_person(context))
        return pb.RemoveMembershipResponse()

    @_rpc
    def AssignRep(self, request: pb.AssignRepRequest, context: grpc.ServicerContext
                  ) -> pb.AssignRepResponse:
        provisioning.assign_rep(self.deps, request.rep_user_id, request.account_id, by=_acting_person(context))
        return pb.AssignRepResponse()


def build(
    settings: IdentitySettings,
    *,
    clock: Clock | None = None,
    store: KeyValueStore | None = None,
    hasher: PasswordHasher | None = None,
) -> GrpcServer:
    """The identity server, built but not started (`.start()`, then `.stop()` or
    `.serve_forever()`); bind "127.0.0.1:0" in settings picks a free port (`.port`).

    The outbox dispatcher thread starts here and stops, with the connections, after the
    server has stopped. `clock`, `store` and `hasher` replace the real ones in tests.
    """
    clock = clock or SystemClock()
    deps = bootstrap.build_dependencies(settings, clock=clock, store=store, hasher=hasher, background=True)
    servicer = IdentityServicer(deps)
    server = build_service(
        settings,
        service_name=SERVICE_NAME,
        register=lambda s: identity_pb2_grpc.add_IdentityServiceServicer_to_server(servicer, s),
        engine=deps.sql_engine,
        outbox=orm.outbox,
        clock=clock,
        on_stop=deps.close,
        allowed_callers=ALLOWED_CALLERS,
        # Every signed-in page view checks its session: failures are still logged.
        quiet_methods=[f"/{SERVICE_NAME}/ValidateSession"],
        # Sessions, tickets and every limit live in Redis: nothing works without it.
        dependencies={"redis": deps.store.ping},
    )
    return server


def serve(settings: IdentitySettings) -> None:
    """Run until SIGTERM/SIGINT: health NOT_SERVING, in-flight calls finish, then exit (S23)."""
    build(settings).start().serve_forever()
