"""Who may call which method of each service (billing_common.service_auth), against the three
real servers started in-process on port 0 (identity on the real database and Redis).

The matrix: every method of every service, called with no credentials, a wrong secret, an
unknown caller name and as each known caller. Requests are empty: an admitted call fails on
its arguments (or succeeds harmlessly), a refused one never reaches the servicer.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import select

from billing.enterprise_portal.v1 import enterprise_portal_pb2
from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing.online_billing.v1 import online_billing_pb2
from billing_common.clock import FakeClock
from billing_common.db import make_engine
from billing_common.grpc_client import error_field, make_channel
from billing_common.service_auth import (
    BILLING_CENTER_WEB,
    CALLERS,
    ENTERPRISE_PORTAL,
    ENTERPRISE_PORTAL_WEB,
    ONLINE_BILLING,
    OPERATOR,
    CallerCredentials,
)
from services.enterprise_portal import bootstrap as enterprise_bootstrap
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.entrypoints import grpc_server as enterprise_server
from services.identity import bootstrap as identity_bootstrap
from services.identity.adapters import orm as identity_orm
from services.identity.config import IdentitySettings
from services.identity.entrypoints import grpc_server as identity_server
from services.online_billing import bootstrap as online_bootstrap
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.entrypoints import grpc_server as online_server
from tests import callers

UNAUTHENTICATED_TEXT = "This call needs valid service credentials."
PROVISIONING = ("CreateAccount", "CreateUser", "AddMembership", "RemoveMembership", "AssignRep")


@dataclass
class Running:
    name: str
    descriptor: Any  # the proto ServiceDescriptor
    port: int
    allowed: dict[str, frozenset[str]]
    settings: Any


@pytest.fixture(scope="module")
def services(database_url, redis_url, tmp_path_factory) -> Iterator[dict[str, Running]]:
    mail = tmp_path_factory.mktemp("auth-mail")
    common: dict[str, Any] = {"env": "test", "grpc_bind": "127.0.0.1:0", "maildir": mail, "smtp_url": None,
                              "shutdown_grace": 1.0, "outbox_poll_interval": 3600, **callers.ENV}
    identity_settings = IdentitySettings(
        **common, database_url=database_url("identity_auth"), redis_url=redis_url,
        redis_prefix=f"test-auth-{uuid.uuid4().hex[:12]}:", argon2_memory_cost=1024, argon2_time_cost=1)
    online_settings = OnlineBillingSettings(**common, database_url=database_url("online_billing_auth"))
    enterprise_settings = EnterprisePortalSettings(**common, database_url=database_url("enterprise_portal_auth"))
    identity_bootstrap.migrate(identity_settings)
    online_bootstrap.migrate(online_settings)
    enterprise_bootstrap.migrate(enterprise_settings)
    servers = {
        "identity": (identity_server.build(identity_settings, clock=FakeClock()), pb.DESCRIPTOR,
                     "IdentityService", identity_server.ALLOWED_CALLERS, identity_settings),
        "online_billing": (online_server.build(online_settings), online_billing_pb2.DESCRIPTOR,
                           "OnlineBillingService", online_server.ALLOWED_CALLERS, online_settings),
        "enterprise_portal": (enterprise_server.build(enterprise_settings), enterprise_portal_pb2.DESCRIPTOR,
                              "EnterprisePortalService", enterprise_server.ALLOWED_CALLERS, enterprise_settings),
    }
    running = {}
    for name, (server, file, service, allowed, settings) in servers.items():
        server.start()
        running[name] = Running(name, file.services_by_name[service], server.port, allowed, settings)
    yield running
    for server, *_ in servers.values():
        server.stop()


def _call(service: Running, method: str, metadata: tuple[tuple[str, str], ...]) -> grpc.StatusCode:
    """One call of `method` with an empty request and exactly this metadata; its status (OK or
    the error's), with the error's details when refused by the gate."""
    descriptor = service.descriptor.methods_by_name[method]
    request_class = message_factory.GetMessageClass(descriptor.input_type)
    response_class = message_factory.GetMessageClass(descriptor.output_type)
    with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        call = channel.unary_unary(f"/{service.descriptor.full_name}/{method}",
                                   request_serializer=request_class.SerializeToString,
                                   response_deserializer=response_class.FromString)
        try:
            call(request_class(), timeout=10, metadata=metadata)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNAUTHENTICATED and error.details() == UNAUTHENTICATED_TEXT:
                return error.code()
            if error.code() == grpc.StatusCode.PERMISSION_DENIED and "may not call" in (error.details() or ""):
                return error.code()
            return grpc.StatusCode.OK  # admitted: the servicer answered (here, about the empty request)
    return grpc.StatusCode.OK


def _matrix() -> list[tuple[str, str]]:
    files = {"identity": (pb.DESCRIPTOR, "IdentityService"),
             "online_billing": (online_billing_pb2.DESCRIPTOR, "OnlineBillingService"),
             "enterprise_portal": (enterprise_portal_pb2.DESCRIPTOR, "EnterprisePortalService")}
    return [(name, method.name) for name, (file, service) in files.items()
            for method in file.services_by_name[service].methods]


GATE_PASSED = grpc.StatusCode.OK
# What the services must declare: the portals the user-facing calls, operators provisioning,
# online_billing and enterprise_portal the billing contacts (and reps) they mail
# (ListBillingContacts, which the Enterprise portal also calls for its Billing contacts page,
# with a session).
# The Enterprise portal's Billing contacts page alone changes an enterprise account's contacts.
ENTERPRISE_ONLY = frozenset({"AddBillingContact", "RemoveBillingContact", "SetPrimaryBillingContact",
                             "ProposeHandover", "ListHandovers", "DecideHandover"})
MAILING_SERVICES = {ONLINE_BILLING, ENTERPRISE_PORTAL}
ALLOWED = {
    "identity": {m.name: ({OPERATOR} if m.name in PROVISIONING
                          else {*MAILING_SERVICES, ENTERPRISE_PORTAL_WEB} if m.name == "ListBillingContacts"
                          else {ENTERPRISE_PORTAL_WEB} if m.name in ENTERPRISE_ONLY
                          else {BILLING_CENTER_WEB, ENTERPRISE_PORTAL_WEB})
                 for m in pb.DESCRIPTOR.services_by_name["IdentityService"].methods},
    # Every online_billing method is the Billing Center's (its subscription, cards, invoices, profile).
    "online_billing": {m.name: {BILLING_CENTER_WEB}
                       for m in online_billing_pb2.DESCRIPTOR.services_by_name["OnlineBillingService"].methods},
    # Every enterprise_portal method is the Enterprise portal's (its invoices, payments, POs).
    "enterprise_portal": {
        m.name: {ENTERPRISE_PORTAL_WEB}
        for m in enterprise_portal_pb2.DESCRIPTOR.services_by_name["EnterprisePortalService"].methods},
}


@pytest.mark.parametrize(("service", "method"), _matrix(), ids=[f"{s}.{m}" for s, m in _matrix()])
def test_each_method_admits_only_its_callers_and_refuses_everyone_else(services, service, method):
    running = services[service]
    assert running.allowed[f"/{running.descriptor.full_name}/{method}"] == ALLOWED[service][method]
    cases = {
        "no credentials": ((), grpc.StatusCode.UNAUTHENTICATED),
        "a wrong secret": (CallerCredentials(BILLING_CENTER_WEB, "not-the-secret-" + "x" * 30).metadata(),
                           grpc.StatusCode.UNAUTHENTICATED),
        "another caller's secret": (CallerCredentials(OPERATOR, callers.SECRETS[BILLING_CENTER_WEB]).metadata(),
                                    grpc.StatusCode.UNAUTHENTICATED),
        "an unknown caller": (CallerCredentials("billing-center-web-2", callers.SECRETS[BILLING_CENTER_WEB]).metadata(),
                              grpc.StatusCode.UNAUTHENTICATED),
        "not a bearer token": ((("authorization", callers.SECRETS[BILLING_CENTER_WEB]),),
                               grpc.StatusCode.UNAUTHENTICATED),
    }
    # A service holds the secrets only of the callers it admits somewhere: others are unknown to it.
    known = set().union(*ALLOWED[service].values())
    for caller in CALLERS:
        expected = (GATE_PASSED if caller in ALLOWED[service][method] else
                    grpc.StatusCode.PERMISSION_DENIED if caller in known else grpc.StatusCode.UNAUTHENTICATED)
        cases[caller] = (callers.credentials(caller, acting_person="tests").metadata(), expected)
    answers = {case: _call(running, method, metadata) for case, (metadata, _) in cases.items()}
    assert answers == {case: expected for case, (_, expected) in cases.items()}


def test_every_method_of_every_service_is_in_its_allow_list(services):
    for running in services.values():
        assert set(running.allowed) == {f"/{running.descriptor.full_name}/{m.name}" for m in running.descriptor.methods}


def test_health_checks_answer_without_credentials(services):
    for running in services.values():
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=running.descriptor.full_name), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def _identity(services, credentials: CallerCredentials | None):  # type: ignore[no-untyped-def]
    channel = make_channel(f"127.0.0.1:{services['identity'].port}", credentials=credentials, default_timeout=10)
    return channel, identity_pb2_grpc.IdentityServiceStub(channel)


def _code(call, request) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as error:
        call(request)
    return error.value.code()


def test_a_pod_cannot_make_itself_a_rep_of_an_account_nor_read_its_contacts(services, unique):
    """The finding: any pod reaching identity's port created a staff user with a password of its
    choosing, assigned it to any account and signed in as that rep; GetAccount listed contacts."""
    operator_channel, operator = _identity(services, callers.credentials(OPERATOR, "alice"))
    account = operator.CreateAccount(pb.CreateAccountRequest(
        name="Globex", kind=pb.ACCOUNT_KIND_ENTERPRISE, currency="USD", locale="en")).account
    login = unique("mallory.rep")
    rep = pb.CreateUserRequest(login=login, email=f"{login}@evil.test", name="Mallory", locale="en",
                               password="Chosen-by-me-2026!", staff=True)
    for credentials, refused in ((None, grpc.StatusCode.UNAUTHENTICATED),
                                 (callers.BILLING_CENTER, grpc.StatusCode.PERMISSION_DENIED),
                                 (callers.ENTERPRISE, grpc.StatusCode.PERMISSION_DENIED)):
        channel, stub = _identity(services, credentials)
        try:
            assert _code(stub.CreateUser, rep) == refused
            assert _code(stub.AssignRep, pb.AssignRepRequest(rep_user_id="x", account_id=account.account_id)) == refused
            assert _code(stub.AddMembership, pb.AddMembershipRequest(
                user_id="x", account_id=account.account_id, role=pb.ROLE_BILLING_CONTACT)) == refused
            if credentials is None:
                assert _code(stub.GetAccount, pb.GetAccountRequest(account_id=account.account_id)) == refused
        finally:
            channel.close()
    # Nobody by that name exists: signing in as the would-be rep fails like any wrong password.
    channel, portal = _identity(services, callers.ENTERPRISE)
    try:
        error = _code(portal.Authenticate, pb.AuthenticateRequest(
            login=login, password="Chosen-by-me-2026!", portal=pb.PORTAL_ENTERPRISE, client_address="10.9.9.9"))
        assert error == grpc.StatusCode.UNAUTHENTICATED
    finally:
        channel.close()
        operator_channel.close()


def _audit_rows(services, **where: str) -> list[Any]:  # type: ignore[no-untyped-def]
    engine = make_engine(services["identity"].settings.database_url)
    try:
        with engine.connect() as conn:
            query = select(identity_orm.audit_log)
            for column, value in where.items():
                query = query.where(identity_orm.audit_log.c[column] == value)
            return list(conn.execute(query))
    finally:
        engine.dispose()


def test_the_audit_log_names_the_calling_service_and_the_acting_person(services, unique):
    operator_channel, operator = _identity(services, callers.credentials(OPERATOR, "alice@vendor.test"))
    channel, portal = _identity(services, callers.BILLING_CENTER)
    try:
        account = operator.CreateAccount(pb.CreateAccountRequest(
            name=unique("Acme"), kind=pb.ACCOUNT_KIND_ONLINE, currency="USD", locale="en")).account
        login = unique("olivia") + "@acme.test"
        user_id = operator.CreateUser(pb.CreateUserRequest(
            login=login, email=login, name="Olivia", locale="en", password="Online-demo-2026!")).user_id
        operator.AddMembership(pb.AddMembershipRequest(
            user_id=user_id, account_id=account.account_id, role=pb.ROLE_BILLING_CONTACT))
        session = portal.Authenticate(pb.AuthenticateRequest(
            login=login, password="Online-demo-2026!", portal=pb.PORTAL_BILLING_CENTER,
            client_address="10.8.8.8")).session
        portal.ChangePassword(pb.ChangePasswordRequest(
            session_token=session.token, portal=pb.PORTAL_BILLING_CENTER,
            current_password="Online-demo-2026!", new_password="Online-demo-2027!"))
    finally:
        channel.close()
        operator_channel.close()
    created = _audit_rows(services, account_id=account.account_id, action="account.created")
    assert [(r.caller, r.actor) for r in created] == [(OPERATOR, "alice@vendor.test")]
    by_user = {r.action: (r.caller, r.actor) for r in _audit_rows(services, user_id=user_id)}
    assert by_user == {
        "user.created": (OPERATOR, "alice@vendor.test"),
        "membership.added": (OPERATOR, "alice@vendor.test"),
        "password.changed": (BILLING_CENTER_WEB, user_id),
    }
    assert json.loads(created[0].details)["kind"] == "online"


def test_provisioning_must_name_the_person_acting(services):
    channel, operator = _identity(services, callers.credentials(OPERATOR))  # no x-acting-person
    try:
        with pytest.raises(grpc.RpcError) as error:
            operator.CreateAccount(pb.CreateAccountRequest(
                name="Nameless", kind=pb.ACCOUNT_KIND_ONLINE, currency="USD", locale="en"))
    finally:
        channel.close()
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_field(error.value) == "x-acting-person"
    assert _audit_rows(services, action="account.created", actor="") == []


def test_secrets_never_reach_the_logs_and_the_access_line_names_the_caller(services, capsys):
    online = services["online_billing"]
    for metadata in (callers.BILLING_CENTER.metadata(),
                     CallerCredentials(BILLING_CENTER_WEB, "a-wrong-secret-that-must-not-be-logged").metadata()):
        _call(online, "GetSubscriptionSummary", metadata)
    out = capsys.readouterr()
    logged = out.out + out.err
    lines = [line for line in logged.splitlines() if "GetSubscriptionSummary" in line]
    assert any("caller=billing-center-web" in line for line in lines)
    assert any("code=UNAUTHENTICATED" in line for line in lines)
    for secret in (*callers.SECRETS.values(), "a-wrong-secret-that-must-not-be-logged"):
        assert secret not in logged
