"""Every identity RPC over a real gRPC channel to an in-process server on port 0, backed by
the real database (PostgreSQL or SQLite) and the real Redis."""
from __future__ import annotations

import threading
import time
import uuid

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.clock import FakeClock
from billing_common.grpc_client import error_field, retry_after
from billing_common.mail import read_maildir
from services.identity import bootstrap
from services.identity.adapters.hashing import Argon2Hasher
from services.identity.entrypoints.grpc_server import SERVICE_NAME, build
from tests import callers
from tests.integration.identity.conftest import grpc_server_settings

BC, ENT = pb.PORTAL_BILLING_CENTER, pb.PORTAL_ENTERPRISE


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def addr(unique) -> str:
    """A client address per test, so per-address limits of one test never touch another."""
    return "10." + ".".join(str(b) for b in uuid.uuid4().bytes[:3])


class Demo:
    def __init__(self, stub, unique) -> None:
        self.stub = stub
        self.online = stub.CreateAccount(pb.CreateAccountRequest(
            name=unique("Acme Online"), kind=pb.ACCOUNT_KIND_ONLINE, currency="USD", locale="en")).account
        self.enterprise = stub.CreateAccount(pb.CreateAccountRequest(
            name=unique("Globex"), kind=pb.ACCOUNT_KIND_ENTERPRISE, currency="USD", locale="en")).account
        self.olivia = self.user(unique("olivia") + "@acme.test", "Olivia Online", "Online-demo-2026!",
                                self.online, pb.ROLE_BILLING_CONTACT)
        self.mark = self.user(unique("mark") + "@acme.test", "Mark Member", "Member-demo-2026!",
                              self.online, pb.ROLE_MEMBER)
        self.globex = self.user(unique("globex-billing"), "Globex AP", "Enterprise-demo-2026!",
                                self.enterprise, pb.ROLE_BILLING_CONTACT, email=unique("ap") + "@globex.test")
        self.erin = self.user(unique("erin") + "@globex.test", "Erin Member", "Member-demo-2026!",
                              self.enterprise, pb.ROLE_MEMBER)
        self.rita = self.user(unique("rita.rep"), "Rita Rep", "Rep-demo-2026!", None, None, staff=True,
                              email=unique("rita") + "@meetings.example")
        stub.AssignRep(pb.AssignRepRequest(rep_user_id=self.rita["id"], account_id=self.enterprise.account_id))

    def user(self, login, name, password, account, role, staff=False, email=None):
        email = email or login
        user_id = self.stub.CreateUser(pb.CreateUserRequest(
            login=login, email=email, name=name, locale="en", password=password, staff=staff)).user_id
        if account is not None:
            self.stub.AddMembership(pb.AddMembershipRequest(user_id=user_id, account_id=account.account_id, role=role))
        return {"id": user_id, "login": login, "email": email, "password": password, "name": name}

    def sign_in(self, who, portal, addr="", password=None):
        return self.stub.Authenticate(pb.AuthenticateRequest(
            login=who["login"], password=password or who["password"], portal=portal, client_address=addr))


@pytest.fixture
def demo(stub, unique) -> Demo:
    return Demo(stub, unique)


def _error(call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call(*args, **kwargs)
    return err.value


def _wait_for_mail(maildir, to, contains="", timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in read_maildir(maildir, newest=200):
            if message["To"] == to and contains in message.get_content():
                return message
        time.sleep(0.05)
    raise AssertionError(f"no mail to {to}")


# --- health -----------------------------------------------------------------------------------

def test_the_server_reports_serving_on_the_library_health_service(channel):
    health = health_pb2_grpc.HealthStub(channel)
    for name in (SERVICE_NAME, ""):
        assert health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status == \
            health_pb2.HealthCheckResponse.SERVING


# --- sign-in, sessions, hand-off --------------------------------------------------------------

def test_authenticate_at_home_gives_a_session_with_the_principal(demo, addr):
    r = demo.sign_in(demo.olivia, BC, addr)
    assert r.WhichOneof("result") == "session" and r.home_portal == BC
    assert r.session.portal == BC and len(r.session.token) >= 43
    assert r.session.absolute_expires_at.seconds - r.session.authenticated_at.seconds == 12 * 3600
    assert r.session.idle_expires_at.seconds - r.session.authenticated_at.seconds == 30 * 60
    assert r.principal.role == pb.ROLE_BILLING_CONTACT
    assert r.principal.account.account_id == demo.online.account_id
    assert r.principal.email == demo.olivia["email"] and r.principal.name == "Olivia Online"


def test_authenticate_at_the_wrong_portal_gives_a_ticket_redeemed_at_home(stub, demo, addr):
    r = demo.sign_in(demo.globex, BC, addr)
    assert r.WhichOneof("result") == "handoff_ticket" and r.home_portal == ENT
    redeemed = stub.RedeemHandoffTicket(pb.RedeemHandoffTicketRequest(ticket=r.handoff_ticket, portal=ENT))
    assert redeemed.session.portal == ENT and redeemed.principal.login == demo.globex["login"]
    again = _error(stub.RedeemHandoffTicket, pb.RedeemHandoffTicketRequest(ticket=r.handoff_ticket, portal=ENT))
    assert again.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_ticket_redeemed_at_the_other_portal_is_refused(stub, demo, addr):
    ticket = demo.sign_in(demo.olivia, ENT, addr).handoff_ticket
    err = _error(stub.RedeemHandoffTicket, pb.RedeemHandoffTicketRequest(ticket=ticket, portal=ENT))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED


def test_s3_unknown_id_wrong_password_and_member_at_enterprise_answer_identically(stub, demo, addr):
    attempts = [("nobody-" + uuid.uuid4().hex[:6], "Whatever-2026!"),
                (demo.globex["login"], "Wrong-password-1"),
                (demo.erin["login"], demo.erin["password"])]
    answers = set()
    for login, password in attempts:
        err = _error(stub.Authenticate, pb.AuthenticateRequest(login=login, password=password, portal=ENT,
                                                               client_address=addr))
        answers.add((err.code(), err.details(), tuple(err.trailing_metadata() or ())))
    assert len(answers) == 1
    code, details, _ = answers.pop()
    assert code == grpc.StatusCode.UNAUTHENTICATED and details == "Invalid user ID/password"


def test_s4_the_eleventh_attempt_is_resource_exhausted_with_retry_after_then_allowed(demo, clock, addr):
    for _ in range(10):
        assert _error(demo.sign_in, demo.mark, BC, addr, "Wrong-password-1").code() == \
            grpc.StatusCode.UNAUTHENTICATED
    err = _error(demo.sign_in, demo.mark, BC, addr)
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    wait = retry_after(err)
    assert wait and wait > 0
    clock.advance(wait)
    assert demo.sign_in(demo.mark, BC, addr).session.token


def test_validate_refreshes_and_sign_out_revokes(stub, demo, addr):
    token = demo.sign_in(demo.olivia, BC, addr).session.token
    valid = stub.ValidateSession(pb.ValidateSessionRequest(token=token, portal=BC))
    assert valid.principal.user_id == demo.olivia["id"] and valid.session.token == token
    stub.SignOut(pb.SignOutRequest(token=token))
    stub.SignOut(pb.SignOutRequest(token=token))
    err = _error(stub.ValidateSession, pb.ValidateSessionRequest(token=token, portal=BC))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED


def test_s11_a_session_is_not_accepted_at_the_other_portal(stub, demo, addr):
    token = demo.sign_in(demo.olivia, BC, addr).session.token
    err = _error(stub.ValidateSession, pb.ValidateSessionRequest(token=token, portal=ENT))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_member_promoted_to_enterprise_billing_contact_loses_the_billing_center_session_and_signs_in_home(
    stub, demo, addr
):
    token = demo.sign_in(demo.erin, BC, addr).session.token
    stub.AddMembership(pb.AddMembershipRequest(user_id=demo.erin["id"], account_id=demo.enterprise.account_id,
                                               role=pb.ROLE_BILLING_CONTACT))
    err = _error(stub.ValidateSession, pb.ValidateSessionRequest(token=token, portal=BC))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    again = demo.sign_in(demo.erin, BC, addr)
    assert again.WhichOneof("result") == "handoff_ticket" and again.home_portal == ENT
    redeemed = stub.RedeemHandoffTicket(pb.RedeemHandoffTicketRequest(ticket=again.handoff_ticket, portal=ENT))
    assert redeemed.session.token


# --- passwords ----------------------------------------------------------------------------------

def test_reset_mail_points_at_the_configured_url_and_completing_it_ends_sessions(
    stub, demo, addr, server_settings
):
    old = demo.sign_in(demo.olivia, BC, addr).session.token
    assert stub.RequestPasswordReset(pb.RequestPasswordResetRequest(
        login=demo.olivia["login"], portal=BC, client_address=addr)) == pb.RequestPasswordResetResponse()
    mail = _wait_for_mail(server_settings.maildir, demo.olivia["email"], "/reset/")
    (link,) = [ln for ln in mail.get_content().splitlines() if "/reset/" in ln]
    assert link.startswith("https://billing.example/reset/")
    token = link.rsplit("/", 1)[1]
    assert stub.CheckPasswordResetToken(pb.CheckPasswordResetTokenRequest(token=token)).valid
    weak = _error(stub.CompletePasswordReset, pb.CompletePasswordResetRequest(token=token, new_password="password1"))
    assert weak.code() == grpc.StatusCode.INVALID_ARGUMENT and error_field(weak) == "new_password"
    stub.CompletePasswordReset(pb.CompletePasswordResetRequest(token=token, new_password="Brand-new-2026!"))
    assert not stub.CheckPasswordResetToken(pb.CheckPasswordResetTokenRequest(token=token)).valid
    reused = _error(stub.CompletePasswordReset,
                    pb.CompletePasswordResetRequest(token=token, new_password="Other-new-2026!"))
    assert reused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert _error(stub.ValidateSession, pb.ValidateSessionRequest(token=old, portal=BC)).code() == \
        grpc.StatusCode.UNAUTHENTICATED
    _wait_for_mail(server_settings.maildir, demo.olivia["email"], "was just changed")
    assert demo.sign_in(demo.olivia, BC, addr, "Brand-new-2026!").session.token


def test_reset_request_for_an_unknown_user_id_answers_the_same(stub, addr):
    r = stub.RequestPasswordReset(pb.RequestPasswordResetRequest(login="nobody@nowhere.test", portal=ENT,
                                                                 client_address=addr))
    assert r == pb.RequestPasswordResetResponse()


def test_change_password_needs_the_current_one(stub, demo, addr):
    token = demo.sign_in(demo.olivia, BC, addr).session.token
    wrong = _error(stub.ChangePassword, pb.ChangePasswordRequest(
        session_token=token, portal=BC, current_password="Not-it-2026!", new_password="Brand-new-2026!"))
    assert wrong.code() == grpc.StatusCode.INVALID_ARGUMENT and error_field(wrong) == "current_password"
    stub.ChangePassword(pb.ChangePasswordRequest(session_token=token, portal=BC,
                                                 current_password="Online-demo-2026!",
                                                 new_password="Brand-new-2026!"))
    assert demo.sign_in(demo.olivia, BC, addr, "Brand-new-2026!").session.token


# --- accounts and contact forms -----------------------------------------------------------------

def test_get_account_lists_its_billing_contacts(stub, demo):
    r = stub.GetAccount(pb.GetAccountRequest(account_id=demo.enterprise.account_id))
    assert r.account.kind == pb.ACCOUNT_KIND_ENTERPRISE and r.account.status == "active"
    assert [(c.name, c.email) for c in r.billing_contacts] == [("Globex AP", demo.globex["email"])]
    assert _error(stub.GetAccount, pb.GetAccountRequest(account_id="nope")).code() == grpc.StatusCode.NOT_FOUND


def test_a_member_mails_the_billing_administrator(stub, demo, addr, server_settings):
    token = demo.sign_in(demo.erin, BC, addr).session.token
    r = stub.ContactBillingAdministrator(pb.ContactBillingAdministratorRequest(
        session_token=token, portal=BC, note="Two more seats, please."))
    assert r.recipients == 1
    mail = _wait_for_mail(server_settings.maildir, demo.globex["email"], "Two more seats, please.")
    assert mail["Reply-To"] == demo.erin["email"] and "Erin Member" in mail.get_content()


def test_a_billing_contact_cannot_use_the_member_message(stub, demo, addr):
    token = demo.sign_in(demo.olivia, BC, addr).session.token
    err = _error(stub.ContactBillingAdministrator,
                 pb.ContactBillingAdministratorRequest(session_token=token, portal=BC))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_customer_care_mail_reaches_the_configured_address(stub, addr, server_settings, unique):
    subject = unique("Cannot sign in")
    stub.ContactCustomerCare(pb.ContactCustomerCareRequest(
        name="Pat", email="pat@example.test", subject=subject, message="Help", portal=ENT, client_address=addr))
    mail = _wait_for_mail(server_settings.maildir, "care@example.test", subject)
    assert mail["Reply-To"] == "pat@example.test"


def test_list_rep_accounts_for_reps_only(stub, demo, addr):
    rep_token = demo.sign_in(demo.rita, ENT, addr).session.token
    r = stub.ListRepAccounts(pb.ListRepAccountsRequest(session_token=rep_token, portal=ENT))
    assert [a.account_id for a in r.accounts] == [demo.enterprise.account_id]
    contact_token = demo.sign_in(demo.globex, ENT, addr).session.token
    err = _error(stub.ListRepAccounts, pb.ListRepAccountsRequest(session_token=contact_token, portal=ENT))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


# --- provisioning -------------------------------------------------------------------------------

def test_provisioning_errors_map_to_statuses(stub, demo):
    dup = _error(stub.CreateUser, pb.CreateUserRequest(login=demo.olivia["login"].upper(), email="x@y.test",
                                                       name="Dup", locale="en"))
    assert dup.code() == grpc.StatusCode.ALREADY_EXISTS and error_field(dup) == "login"
    other = _error(stub.AddMembership, pb.AddMembershipRequest(
        user_id=demo.mark["id"], account_id=demo.enterprise.account_id, role=pb.ROLE_MEMBER))
    assert other.code() == grpc.StatusCode.FAILED_PRECONDITION
    missing = _error(stub.RemoveMembership, pb.RemoveMembershipRequest(user_id="nobody",
                                                                      account_id=demo.online.account_id))
    assert missing.code() == grpc.StatusCode.NOT_FOUND


def test_remove_membership_ends_access(stub, demo, addr):
    token = demo.sign_in(demo.mark, BC, addr).session.token
    assert stub.RemoveMembership(pb.RemoveMembershipRequest(
        user_id=demo.mark["id"], account_id=demo.online.account_id)) == pb.RemoveMembershipResponse()
    assert _error(stub.ValidateSession, pb.ValidateSessionRequest(token=token, portal=BC)).code() == \
        grpc.StatusCode.UNAUTHENTICATED


def test_a_user_created_without_password_signs_in_only_after_reset_create(stub, demo, addr, server_settings, unique):
    login = unique("carlos") + "@globex.test"
    user_id = stub.CreateUser(pb.CreateUserRequest(login=login, email=login, name="Carlos", locale="pt-BR")).user_id
    stub.AddMembership(pb.AddMembershipRequest(user_id=user_id, account_id=demo.enterprise.account_id,
                                               role=pb.ROLE_BILLING_CONTACT))
    err = _error(stub.Authenticate, pb.AuthenticateRequest(login=login, password="Anything-2026!", portal=ENT))
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    stub.RequestPasswordReset(pb.RequestPasswordResetRequest(login=login, portal=ENT, client_address=addr))
    mail = _wait_for_mail(server_settings.maildir, login, "/reset/")
    assert mail["Subject"] == "Redefinir/Criar sua senha"
    link = next(ln for ln in mail.get_content().splitlines() if "/reset/" in ln)
    assert link.startswith("https://enterprise.example/reset/")
    stub.CompletePasswordReset(pb.CompletePasswordResetRequest(token=link.rsplit("/", 1)[1],
                                                               new_password="Carlos-new-2026!"))
    assert stub.Authenticate(pb.AuthenticateRequest(login=login, password="Carlos-new-2026!", portal=ENT)).session


# --- S24: bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "request_", "field"), [
    ("Authenticate", pb.AuthenticateRequest(login="x" * 255, password="p" * 8, portal=BC), "login"),
    ("Authenticate", pb.AuthenticateRequest(login="olivia@acme.test", password="p" * 1025, portal=BC), "password"),
    ("Authenticate", pb.AuthenticateRequest(login="olivia@acme.test", password="p" * 8), "portal"),
    ("Authenticate", pb.AuthenticateRequest(login="olivia@acme.test", password="p" * 8, portal=7), "portal"),
    ("Authenticate", pb.AuthenticateRequest(login="", password="p" * 8, portal=BC), "login"),
    ("ValidateSession", pb.ValidateSessionRequest(token="t" * 513, portal=BC), "token"),
    ("ContactBillingAdministrator", pb.ContactBillingAdministratorRequest(session_token="t", portal=BC,
                                                                          note="n" * 501), "note"),
    ("ContactCustomerCare", pb.ContactCustomerCareRequest(name="Pat", email="pat@example.test", subject="s",
                                                          message="m" * 5001, portal=BC), "message"),
    ("ContactCustomerCare", pb.ContactCustomerCareRequest(name="Pat", email="pat@example.test", subject="s" * 151,
                                                          message="m", portal=BC), "subject"),
    ("CreateUser", pb.CreateUserRequest(login="valid.name", email="a@b.test", name="n" * 101, locale="en"), "name"),
    ("ContactCustomerCare", pb.ContactCustomerCareRequest(name="Pat\x00", email="pat@example.test",
                                                          subject="s", message="m", portal=BC), "name"),
    ("RequestPasswordReset", pb.RequestPasswordResetRequest(login="olivia@acme.test"), "portal"),
    ("CreateAccount", pb.CreateAccountRequest(name="Acme", currency="USD", locale="en"), "kind"),
    ("CreateAccount", pb.CreateAccountRequest(name="Acme", kind=pb.ACCOUNT_KIND_ONLINE, currency="ZZZ",
                                              locale="en"), "currency"),
    ("CreateAccount", pb.CreateAccountRequest(name="", kind=pb.ACCOUNT_KIND_ONLINE, currency="USD",
                                              locale="en"), "name"),
    ("CreateUser", pb.CreateUserRequest(login="no spaces allowed", email="a@b.test", name="A", locale="en"),
     "login"),
    ("CreateUser", pb.CreateUserRequest(login="valid.name", email="a@b.test", name="A", locale="de"), "locale"),
    ("CreateUser", pb.CreateUserRequest(login="valid.name", email="a@b.test", name="A", locale="en",
                                        password="short"), "password"),
    ("AddMembership", pb.AddMembershipRequest(user_id="u", account_id="a"), "role"),
])
def test_bad_input_is_invalid_argument_naming_the_field(stub, method, request_, field):
    err = _error(getattr(stub, method), request_)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_field(err) == field


# --- S25: no secrets in the logs ----------------------------------------------------------------

def test_passwords_tokens_and_links_never_reach_the_logs(stub, demo, addr, capsys, server_settings):
    r = demo.sign_in(demo.olivia, BC, addr)
    stub.RequestPasswordReset(pb.RequestPasswordResetRequest(login=demo.olivia["login"], portal=BC,
                                                             client_address=addr))
    mail = _wait_for_mail(server_settings.maildir, demo.olivia["email"], "/reset/")
    reset_token = next(ln for ln in mail.get_content().splitlines() if "/reset/" in ln).rsplit("/", 1)[1]
    ticket = demo.sign_in(demo.globex, BC, addr).handoff_ticket
    _error(demo.sign_in, demo.olivia, BC, addr, "Secret-wrong-2026!")
    out = capsys.readouterr()
    logs = out.out + out.err
    assert "method=/billing.identity.v1.IdentityService/Authenticate" in logs  # the calls were logged
    for secret in (demo.olivia["password"], "Secret-wrong-2026!", r.session.token, reset_token, ticket):
        assert secret not in logs


# --- S23: graceful stop -------------------------------------------------------------------------

class SlowHasher(Argon2Hasher):
    """Holds a sign-in open long enough to stop the server under it."""

    def __init__(self) -> None:
        super().__init__(memory_cost=1024, time_cost=1)
        self.entered = threading.Event()

    def verify(self, password_hash: str, password: str) -> bool:
        self.entered.set()
        time.sleep(1.0)
        return super().verify(password_hash, password)


def test_s23_a_call_in_flight_during_stop_completes_and_health_goes_not_serving(
    identity_database, redis_url, tmp_path, unique, drop_redis_prefix
):
    settings = grpc_server_settings(identity_database, redis_url, tmp_path / "mail")
    hasher = SlowHasher()
    srv = build(settings, hasher=hasher).start()
    channel = callers.channel_as_each_caller(f"127.0.0.1:{srv.port}", default_timeout=10.0)
    try:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        login = unique("stopper")
        account = stub.CreateAccount(pb.CreateAccountRequest(name="Stop Ltd", kind=pb.ACCOUNT_KIND_ONLINE,
                                                             currency="USD", locale="en")).account
        user_id = stub.CreateUser(pb.CreateUserRequest(login=login, email=f"{login}@stop.test", name="S",
                                                       locale="en", password="Stopping-2026!")).user_id
        stub.AddMembership(pb.AddMembershipRequest(user_id=user_id, account_id=account.account_id,
                                                   role=pb.ROLE_BILLING_CONTACT))
        future = stub.Authenticate.future(pb.AuthenticateRequest(login=login, password="Stopping-2026!", portal=BC))
        assert hasher.entered.wait(5)
        # What a load balancer watching the server sees, announced by the server itself.
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=10)
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
        stopper = threading.Thread(target=srv.stop)
        stopper.start()
        assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
        watch.cancel()
        assert future.result(timeout=10).session.token  # finished, not cut off
        stopper.join(10)
        assert not stopper.is_alive()
    finally:
        channel.close()
        srv.stop()
        drop_redis_prefix(settings.redis_url, settings.redis_prefix)


def test_bootstrap_builds_dependencies_that_close_cleanly(server_settings):
    deps = bootstrap.build_dependencies(server_settings)
    with deps.uow() as uow:
        assert uow.accounts.get("none") is None
    deps.close()
