"""identity.v1 as a gRPC client sees it, run against the web tests' fake AND the real service.

What is held equal: status codes, the field named in the `x-error-field` trailer, which
`result` of the oneof comes back, home_portal, the principal (role, account), and the texts the
portals show. The real behaviour is the reference (README "Decisions"); when the fake differs,
the fake is wrong. Provisioning RPCs are not part of the contract: the fake has none.
"""

from __future__ import annotations

import grpc
import pytest

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.grpc_client import error_field, make_channel
from billing_common.service_auth import CallerCredentials
from tests import callers
from tests.contract.identity_sides import BC, EBP, Cast, Side, rpc_error

PORTALS = {BC: "Billing Center", EBP: "Enterprise"}
INVALID_CREDENTIALS = "Invalid user ID/password"
COMMON_PASSWORD_REFUSED = (
    "This password is one of the most common ones, so it is easy to guess. Choose another."
)


def sign_in(
    identity: Side, cast: Cast, who: str, portal: int, addr: str, password: str | None = None
) -> pb.AuthenticateResponse:
    person = cast[who]
    return identity.stub.Authenticate(
        pb.AuthenticateRequest(
            login=person.login, password=password or person.password or "", portal=portal, client_address=addr
        )
    )


def session_token(identity: Side, cast: Cast, who: str, portal: int, addr: str) -> str:
    answer = sign_in(identity, cast, who, portal, addr)
    assert answer.WhichOneof("result") == "session"
    return answer.session.token


def validate(identity: Side, token: str, portal: int) -> pb.ValidateSessionResponse:
    return identity.stub.ValidateSession(pb.ValidateSessionRequest(token=token, portal=portal))


def is_refused_as_signed_out(identity: Side, token: str, portal: int) -> bool:
    return rpc_error(validate, identity, token, portal).code() == grpc.StatusCode.UNAUTHENTICATED


def reset_link(identity: Side, cast: Cast, who: str, portal: int, addr: str) -> str:
    before = len(identity.reset_links(cast[who].email, 0))
    identity.stub.RequestPasswordReset(
        pb.RequestPasswordResetRequest(login=cast[who].login, portal=portal, client_address=addr)
    )
    link_portal, token = identity.reset_links(cast[who].email, before + 1)[-1]
    assert link_portal == portal
    return token


def token_is_valid(identity: Side, token: str) -> bool:
    return identity.stub.CheckPasswordResetToken(pb.CheckPasswordResetTokenRequest(token=token)).valid


def assert_invalid_argument(error: grpc.RpcError, field: str, details: str | None = None) -> None:
    assert (error.code(), error_field(error)) == (grpc.StatusCode.INVALID_ARGUMENT, field)
    if details is not None:
        assert error.details() == details


# --- Authenticate -------------------------------------------------------------------------------


@pytest.mark.parametrize("who, portal", [("olivia", BC), ("globex", EBP)], ids=["online", "enterprise"])
def test_a_billing_contact_at_their_portal_gets_a_session_bound_to_it(identity, cast, addr, who, portal):
    answer = sign_in(identity, cast, who, portal, addr)
    assert answer.WhichOneof("result") == "session"
    assert answer.home_portal == portal and answer.session.portal == portal
    assert answer.principal == cast.principal(who)
    assert answer.session.token
    for moment in ("authenticated_at", "idle_expires_at", "absolute_expires_at"):
        assert answer.session.HasField(moment), moment


@pytest.mark.parametrize("portal", [BC, EBP], ids=PORTALS.get)
@pytest.mark.parametrize(
    "login, password",
    [
        ("globex", "Wrong-password-2026!"),
        ("olivia", "Wrong-password-2026!"),
        ("nobody-at-all@nowhere.test", "Whatever-2026!"),
        ("carlos", "No-password-yet-2026!"),
    ],
    ids=[
        "wrong password of an enterprise contact",
        "wrong password of an online contact",
        "unknown user ID",
        "a contact without a password yet",
    ],
)
def test_every_failed_sign_in_is_the_same_unauthenticated_invalid_user_id_password(
    identity, cast, addr, portal, login, password
):
    login = cast[login].login if login in cast.people else login
    error = rpc_error(
        identity.stub.Authenticate,
        pb.AuthenticateRequest(login=login, password=password, portal=portal, client_address=addr),
    )
    assert (error.code(), error.details()) == (grpc.StatusCode.UNAUTHENTICATED, INVALID_CREDENTIALS)
    assert error_field(error) is None


@pytest.mark.parametrize(
    "who", ["mark", "erin"], ids=["member of an online account", "member of an enterprise account"]
)
def test_a_member_of_either_kind_of_account_signs_in_at_the_billing_center(identity, cast, addr, who):
    answer = sign_in(identity, cast, who, BC, addr)
    assert answer.WhichOneof("result") == "session"
    assert answer.home_portal == BC and answer.session.portal == BC
    assert answer.principal == cast.principal(who)
    assert answer.principal.role == pb.ROLE_MEMBER


@pytest.mark.parametrize(
    "who", ["mark", "erin"], ids=["member of an online account", "member of an enterprise account"]
)
def test_a_member_at_the_enterprise_door_is_refused_like_a_wrong_password(identity, cast, addr, who):
    error = rpc_error(sign_in, identity, cast, who, EBP, addr)
    assert (error.code(), error.details()) == (grpc.StatusCode.UNAUTHENTICATED, INVALID_CREDENTIALS)
    assert error_field(error) is None


def test_a_rep_signs_in_at_the_enterprise_portal_with_no_account_of_their_own(identity, cast, addr):
    answer = sign_in(identity, cast, "rita", EBP, addr)
    assert answer.WhichOneof("result") == "session"
    assert answer.home_portal == EBP and answer.session.portal == EBP
    assert answer.principal == cast.principal("rita")
    assert answer.principal.role == pb.ROLE_REP and not answer.principal.HasField("account")


@pytest.mark.parametrize(
    "who, door, home",
    [("olivia", EBP, BC), ("globex", BC, EBP), ("rita", BC, EBP)],
    ids=[
        "online contact at the enterprise door",
        "enterprise contact at the billing center",
        "rep at the billing center",
    ],
)
def test_someone_at_the_other_door_gets_a_handoff_ticket_for_their_home_portal(
    identity, cast, addr, who, door, home
):
    answer = sign_in(identity, cast, who, door, addr)
    assert answer.WhichOneof("result") == "handoff_ticket" and answer.handoff_ticket
    assert answer.home_portal == home
    assert answer.principal == cast.principal(who)


def test_the_user_id_is_case_insensitive_and_a_user_name_owner_may_use_their_email(identity, cast, addr):
    for login in (cast["globex"].login.upper(), f"  {cast['globex'].email.upper()} "):
        answer = identity.stub.Authenticate(
            pb.AuthenticateRequest(
                login=login, password=cast["globex"].password, portal=EBP, client_address=addr
            )
        )
        assert (
            answer.WhichOneof("result") == "session" and answer.principal.user_id == cast.user_ids["globex"]
        )


@pytest.mark.parametrize(
    "login, password, field",
    [("", "Whatever-2026!", "login"), ("   ", "Whatever-2026!", "login"), ("olivia", "", "password")],
)
def test_an_empty_user_id_or_password_is_invalid_argument_naming_it(
    identity, cast, addr, login, password, field
):
    login = cast[login].login if login in cast.people else login
    error = rpc_error(
        identity.stub.Authenticate,
        pb.AuthenticateRequest(login=login, password=password, portal=BC, client_address=addr),
    )
    assert_invalid_argument(error, field)


# --- Authenticate: device tokens and the sign-in budgets (S4) --------------------------------------


def attempt(identity: Side, cast: Cast, who: str, addr: str, password: str | None = None, device: str = ""):
    """The answer, or the gRPC error, of one sign-in at the Billing Center."""
    person = cast[who]
    request = pb.AuthenticateRequest(login=person.login, password=password or person.password or "",
                                     portal=BC, client_address=addr, device_token=device)
    try:
        return identity.stub.Authenticate(request)
    except grpc.RpcError as error:
        return error


@pytest.mark.parametrize("who", ["olivia", "globex"], ids=["session", "hand-off"])
def test_every_successful_sign_in_hands_back_a_new_device_token(identity, cast, addr, who):
    first, second = sign_in(identity, cast, who, BC, addr), sign_in(identity, cast, who, BC, addr)
    assert first.device.token and second.device.token and first.device.token != second.device.token
    assert len(first.device.token) <= 512 and first.device.HasField("expires_at")


def test_a_device_token_outlives_the_session_by_months(identity, cast, addr):
    answer = sign_in(identity, cast, "olivia", BC, addr)
    lifetime = answer.device.expires_at.ToSeconds() - answer.session.authenticated_at.ToSeconds()
    assert lifetime >= 90 * 24 * 3600


def test_after_ten_failures_only_browsers_without_the_users_device_token_must_wait(identity, cast, addr):
    device = sign_in(identity, cast, "olivia", BC, addr).device.token
    marks = sign_in(identity, cast, "mark", BC, addr).device.token
    for _ in range(10):
        failed = attempt(identity, cast, "olivia", addr, password="Wrong-password-2026!")
        assert failed.code() == grpc.StatusCode.UNAUTHENTICATED
    # A new browser, another user's device token or a made-up one: the same wait, even with
    # the right password, and the same status as any wait (RESOURCE_EXHAUSTED).
    for other in ("", marks, device[:-4] + "AAAA", "not-a-device-token"):
        refused = attempt(identity, cast, "olivia", addr, device=other)
        assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, other
    # Her own browser signs in.
    assert attempt(identity, cast, "olivia", addr, device=device).session.token


def test_a_device_token_too_long_to_be_one_is_invalid_argument_naming_it(identity, cast, addr):
    error = attempt(identity, cast, "olivia", addr, device="d" * 513)
    assert_invalid_argument(error, "device_token")


# --- ValidateSession, SignOut -------------------------------------------------------------------


def test_a_session_is_valid_at_the_portal_it_was_opened_for_and_nowhere_else(identity, cast, addr):
    token = session_token(identity, cast, "olivia", BC, addr)
    answer = validate(identity, token, BC)
    assert answer.principal == cast.principal("olivia")
    assert answer.session.token == token and answer.session.portal == BC
    assert is_refused_as_signed_out(identity, token, EBP)
    enterprise = session_token(identity, cast, "globex", EBP, addr)
    assert validate(identity, enterprise, EBP).principal == cast.principal("globex")
    assert is_refused_as_signed_out(identity, enterprise, BC)


@pytest.mark.parametrize("token", ["", "never-issued-" + "x" * 30])
def test_an_unknown_session_token_is_unauthenticated(identity, token):
    assert is_refused_as_signed_out(identity, token, BC)


def test_signing_out_ends_only_that_session_and_signing_out_again_is_fine(identity, cast, addr):
    token = session_token(identity, cast, "olivia", BC, addr)
    other = session_token(identity, cast, "olivia", BC, addr)
    assert identity.stub.SignOut(pb.SignOutRequest(token=token)) == pb.SignOutResponse()
    assert is_refused_as_signed_out(identity, token, BC)
    assert identity.stub.SignOut(pb.SignOutRequest(token=token)) == pb.SignOutResponse()
    assert identity.stub.SignOut(pb.SignOutRequest(token="never-issued-" + "x" * 30)) == pb.SignOutResponse()
    assert validate(identity, other, BC).principal.user_id == cast.user_ids["olivia"]


# --- RedeemHandoffTicket ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, door, home",
    [("globex", BC, EBP), ("olivia", EBP, BC), ("rita", BC, EBP)],
    ids=["to the enterprise portal", "to the billing center", "a rep"],
)
def test_a_handoff_ticket_opens_a_session_at_its_home_portal_once(identity, cast, addr, who, door, home):
    ticket = sign_in(identity, cast, who, door, addr).handoff_ticket
    redeemed = identity.stub.RedeemHandoffTicket(
        pb.RedeemHandoffTicketRequest(ticket=ticket, portal=home, client_address=addr)
    )
    assert redeemed.principal == cast.principal(who)
    assert redeemed.session.portal == home
    assert validate(identity, redeemed.session.token, home).principal == cast.principal(who)
    again = rpc_error(
        identity.stub.RedeemHandoffTicket, pb.RedeemHandoffTicketRequest(ticket=ticket, portal=home)
    )
    assert again.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_handoff_ticket_tried_at_the_wrong_portal_is_refused_and_used_up(identity, cast, addr):
    ticket = sign_in(identity, cast, "globex", BC, addr).handoff_ticket
    wrong = rpc_error(
        identity.stub.RedeemHandoffTicket, pb.RedeemHandoffTicketRequest(ticket=ticket, portal=BC)
    )
    assert wrong.code() == grpc.StatusCode.UNAUTHENTICATED
    late = rpc_error(
        identity.stub.RedeemHandoffTicket, pb.RedeemHandoffTicketRequest(ticket=ticket, portal=EBP)
    )
    assert late.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("ticket", ["", "never-issued-" + "x" * 30])
def test_an_unknown_handoff_ticket_is_unauthenticated(identity, ticket):
    error = rpc_error(
        identity.stub.RedeemHandoffTicket, pb.RedeemHandoffTicketRequest(ticket=ticket, portal=EBP)
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


# --- RequestPasswordReset, CheckPasswordResetToken ----------------------------------------------


def test_a_reset_request_answers_the_same_whether_or_not_the_user_id_exists(identity, cast, addr):
    for login in (cast["olivia"].login, "nobody-at-all@nowhere.test"):
        answer = identity.stub.RequestPasswordReset(
            pb.RequestPasswordResetRequest(login=login, portal=BC, client_address=addr)
        )
        assert answer == pb.RequestPasswordResetResponse()


@pytest.mark.parametrize(
    "who, portal",
    [("carlos", EBP), ("olivia", BC), ("olivia", EBP)],
    ids=[
        "a contact without password at the enterprise portal",
        "at the billing center",
        "an online contact at the enterprise portal",
    ],
)
def test_a_reset_link_is_mailed_for_the_portal_it_was_asked_at_and_is_valid(
    identity, cast, addr, who, portal
):
    token = reset_link(identity, cast, who, portal, addr)
    assert token_is_valid(identity, token)


def test_a_newer_reset_link_voids_the_older_one(identity, cast, addr):
    older = reset_link(identity, cast, "olivia", BC, addr)
    newer = reset_link(identity, cast, "olivia", BC, addr)
    assert not token_is_valid(identity, older)
    assert token_is_valid(identity, newer)


@pytest.mark.parametrize("token", ["", "never-issued-" + "x" * 30])
def test_an_unknown_reset_token_is_not_valid(identity, token):
    assert not token_is_valid(identity, token)


def test_a_reset_request_without_a_user_id_is_invalid_argument_naming_login(identity, addr):
    error = rpc_error(
        identity.stub.RequestPasswordReset,
        pb.RequestPasswordResetRequest(login="  ", portal=BC, client_address=addr),
    )
    assert_invalid_argument(error, "login")


# --- CompletePasswordReset ----------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "never-issued-" + "x" * 30])
def test_completing_a_reset_with_an_unknown_link_is_failed_precondition_naming_the_token(identity, token):
    error = rpc_error(
        identity.stub.CompletePasswordReset,
        pb.CompletePasswordResetRequest(token=token, new_password="Brand-new-2026!"),
    )
    assert (error.code(), error_field(error)) == (grpc.StatusCode.FAILED_PRECONDITION, "token")


@pytest.mark.parametrize(
    "password, details",
    [
        ("password123", COMMON_PASSWORD_REFUSED),
        ("short", "A password needs at least 8 characters."),
    ],
    ids=["common", "short"],
)
def test_a_refused_new_password_names_the_field_and_leaves_the_link_usable(
    identity, cast, addr, password, details
):
    token = reset_link(identity, cast, "carlos", EBP, addr)
    error = rpc_error(
        identity.stub.CompletePasswordReset,
        pb.CompletePasswordResetRequest(token=token, new_password=password),
    )
    assert_invalid_argument(error, "new_password", details)
    assert token_is_valid(identity, token)


def test_completing_a_reset_sets_the_password_ends_every_session_and_uses_the_link_up(identity, cast, addr):
    here = session_token(identity, cast, "olivia", BC, addr)
    token = reset_link(identity, cast, "olivia", BC, addr)
    assert (
        identity.stub.CompletePasswordReset(
            pb.CompletePasswordResetRequest(token=token, new_password="Olivia-new-2026!")
        )
        == pb.CompletePasswordResetResponse()
    )
    assert is_refused_as_signed_out(identity, here, BC)
    assert not token_is_valid(identity, token)
    used = rpc_error(
        identity.stub.CompletePasswordReset,
        pb.CompletePasswordResetRequest(token=token, new_password="Olivia-other-2026!"),
    )
    assert (used.code(), error_field(used)) == (grpc.StatusCode.FAILED_PRECONDITION, "token")
    old = rpc_error(sign_in, identity, cast, "olivia", BC, addr)
    assert old.code() == grpc.StatusCode.UNAUTHENTICATED
    assert sign_in(identity, cast, "olivia", BC, addr, "Olivia-new-2026!").WhichOneof("result") == "session"


def test_a_contact_without_a_password_signs_in_once_they_created_one(identity, cast, addr):
    token = reset_link(identity, cast, "carlos", EBP, addr)
    identity.stub.CompletePasswordReset(
        pb.CompletePasswordResetRequest(token=token, new_password="Carlos-new-2026!")
    )
    answer = sign_in(identity, cast, "carlos", EBP, addr, "Carlos-new-2026!")
    assert answer.WhichOneof("result") == "session" and answer.principal == cast.principal("carlos")


# --- ChangePassword -----------------------------------------------------------------------------


def change_password(
    identity: Side, token: str, portal: int, current: str, new: str
) -> pb.ChangePasswordResponse:
    return identity.stub.ChangePassword(
        pb.ChangePasswordRequest(
            session_token=token, portal=portal, current_password=current, new_password=new
        )
    )


def test_changing_the_password_with_a_wrong_current_one_is_invalid_argument_naming_current_password(
    identity, cast, addr
):
    token = session_token(identity, cast, "olivia", BC, addr)
    error = rpc_error(change_password, identity, token, BC, "Not-it-2026!", "Olivia-new-2026!")
    assert_invalid_argument(error, "current_password", "The current password is not correct.")
    assert validate(identity, token, BC).principal.user_id == cast.user_ids["olivia"]  # still signed in


def test_changing_to_a_common_password_is_invalid_argument_naming_new_password(identity, cast, addr):
    token = session_token(identity, cast, "globex", EBP, addr)
    error = rpc_error(change_password, identity, token, EBP, cast["globex"].password, "password123")
    assert_invalid_argument(error, "new_password", COMMON_PASSWORD_REFUSED)
    assert sign_in(identity, cast, "globex", EBP, addr).WhichOneof("result") == "session"  # unchanged


def test_changing_the_password_needs_a_live_session_at_that_portal(identity, cast, addr):
    token = session_token(identity, cast, "olivia", BC, addr)
    for bad_token, portal in (("never-issued-" + "x" * 30, BC), (token, EBP)):
        error = rpc_error(
            change_password, identity, bad_token, portal, cast["olivia"].password, "Olivia-new-2026!"
        )
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED


def test_changing_the_password_keeps_this_session_ends_the_others_and_the_new_one_signs_in(
    identity, cast, addr
):
    other = session_token(identity, cast, "olivia", BC, addr)
    token = session_token(identity, cast, "olivia", BC, addr)
    assert (
        change_password(identity, token, BC, cast["olivia"].password, "Olivia-new-2026!")
        == pb.ChangePasswordResponse()
    )
    assert validate(identity, token, BC).principal.user_id == cast.user_ids["olivia"]
    assert is_refused_as_signed_out(identity, other, BC)
    assert sign_in(identity, cast, "olivia", BC, addr, "Olivia-new-2026!").WhichOneof("result") == "session"


# --- GetAccount ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "account, contacts", [("globex", ["carlos", "globex"]), ("acme", ["olivia"]), ("initech", [])]
)
def test_an_account_comes_with_its_billing_contacts_in_name_order(identity, cast, account, contacts):
    answer = identity.stub.GetAccount(pb.GetAccountRequest(account_id=cast.account_ids[account]))
    assert answer.account == cast.account(account)
    assert list(answer.billing_contacts) == [cast.contact(key) for key in contacts]


@pytest.mark.parametrize(
    "account_id, code",
    [("no-such-account", grpc.StatusCode.NOT_FOUND), ("", grpc.StatusCode.INVALID_ARGUMENT)],
)
def test_an_unknown_or_missing_account_id_names_the_field(identity, account_id, code):
    error = rpc_error(identity.stub.GetAccount, pb.GetAccountRequest(account_id=account_id))
    assert (error.code(), error_field(error)) == (code, "account_id")


# --- ListRepAccounts ----------------------------------------------------------------------------


def list_rep_accounts(identity: Side, token: str, portal: int) -> pb.ListRepAccountsResponse:
    return identity.stub.ListRepAccounts(pb.ListRepAccountsRequest(session_token=token, portal=portal))


def test_a_rep_lists_the_accounts_they_serve_in_name_order(identity, cast, addr):
    token = session_token(identity, cast, "rita", EBP, addr)
    assert list(list_rep_accounts(identity, token, EBP).accounts) == [
        cast.account("globex"),
        cast.account("initech"),
    ]


@pytest.mark.parametrize(
    "who, portal",
    [("globex", EBP), ("olivia", BC), ("mark", BC)],
    ids=["enterprise contact", "online contact", "member"],
)
def test_anyone_but_a_rep_asking_for_the_accounts_they_serve_is_permission_denied(
    identity, cast, addr, who, portal
):
    token = session_token(identity, cast, who, portal, addr)
    assert rpc_error(list_rep_accounts, identity, token, portal).code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_rep_account_list_needs_a_live_session_at_that_portal(identity, cast, addr):
    token = session_token(identity, cast, "rita", EBP, addr)
    for bad_token, portal in (("never-issued-" + "x" * 30, EBP), (token, BC)):
        assert (
            rpc_error(list_rep_accounts, identity, bad_token, portal).code()
            == grpc.StatusCode.UNAUTHENTICATED
        )


# --- ContactBillingAdministrator ----------------------------------------------------------------


def contact_admin(
    identity: Side, token: str, portal: int, note: str = ""
) -> pb.ContactBillingAdministratorResponse:
    return identity.stub.ContactBillingAdministrator(
        pb.ContactBillingAdministratorRequest(session_token=token, portal=portal, note=note)
    )


@pytest.mark.parametrize(
    "who, recipients",
    [("mark", 1), ("erin", 2)],
    ids=["online account, one contact", "enterprise account, two contacts"],
)
def test_a_member_mails_every_billing_contact_of_their_account(identity, cast, addr, who, recipients):
    token = session_token(identity, cast, who, BC, addr)
    assert contact_admin(identity, token, BC, "Two more seats, please.").recipients == recipients
    assert contact_admin(identity, token, BC).recipients == recipients  # the note is optional


@pytest.mark.parametrize(
    "who, portal",
    [("olivia", BC), ("globex", EBP), ("rita", EBP)],
    ids=["online contact", "enterprise contact", "rep"],
)
def test_anyone_but_a_member_mailing_the_billing_administrator_is_failed_precondition(
    identity, cast, addr, who, portal
):
    token = session_token(identity, cast, who, portal, addr)
    assert rpc_error(contact_admin, identity, token, portal).code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_note_for_the_billing_administrator_over_500_characters_is_invalid_argument(identity, cast, addr):
    token = session_token(identity, cast, "mark", BC, addr)
    assert_invalid_argument(rpc_error(contact_admin, identity, token, BC, "n" * 501), "note")
    assert contact_admin(identity, token, BC, "n" * 500).recipients == 1


def test_mailing_the_billing_administrator_needs_a_live_session_at_that_portal(identity, cast, addr):
    token = session_token(identity, cast, "mark", BC, addr)
    for bad_token, portal in (("never-issued-" + "x" * 30, BC), (token, EBP)):
        assert rpc_error(contact_admin, identity, bad_token, portal).code() == grpc.StatusCode.UNAUTHENTICATED


# --- ContactCustomerCare ------------------------------------------------------------------------


def contact_care(identity: Side, addr: str, **fields: str) -> pb.ContactCustomerCareResponse:
    values = {
        "name": "Ana",
        "email": "ana@example.test",
        "subject": "Invoice",
        "message": "Line one\nLine two",
        **fields,
    }
    return identity.stub.ContactCustomerCare(
        pb.ContactCustomerCareRequest(portal=EBP, client_address=addr, **values)
    )


def test_customer_care_takes_a_message_from_anyone_signed_out(identity, addr):
    assert contact_care(identity, addr) == pb.ContactCustomerCareResponse()


@pytest.mark.parametrize("name", ["José\u00adMaria", "Ana \U0001f468\u200d\U0001f469\u200d\U0001f467"],
                         ids=["soft hyphen", "emoji joiner"])
def test_names_people_type_are_taken_as_the_portals_forms_take_them(identity, addr, name):
    # billing_common.limits.has_disallowed_characters is the forms' rule and identity's.
    assert contact_care(identity, addr, name=name) == pb.ContactCustomerCareResponse()


@pytest.mark.parametrize("name", ["bell\x07", "evil\u202etxt"], ids=["control", "bidi override"])
def test_a_name_with_characters_nobody_types_is_invalid_argument_naming_it(identity, addr, name):
    error = rpc_error(contact_care, identity, addr, name=name)
    assert (error.code(), error_field(error)) == (grpc.StatusCode.INVALID_ARGUMENT, "name")


@pytest.mark.parametrize(
    "email, details",
    [
        ("not-an-email", "Enter a valid email address."),
        ("ana\u200b@example.test", "Enter a valid email address."),
        ("ana@localhost", "Enter a valid email address."),
        ("", "Enter an email address."),
    ],
    ids=["no at sign", "a zero-width space", "no dot in the domain", "empty"],
)
def test_an_email_address_that_cannot_be_one_is_invalid_argument_naming_email(identity, addr, email, details):
    assert_invalid_argument(rpc_error(contact_care, identity, addr, email=email), "email", details)


@pytest.mark.parametrize("field", ["name", "subject", "message"])
def test_a_customer_care_message_without_name_subject_or_message_names_the_missing_field(
    identity, addr, field
):
    assert_invalid_argument(rpc_error(contact_care, identity, addr, **{field: " "}), field)


# --- every call made at a portal names it -------------------------------------------------------


@pytest.mark.parametrize(
    "method, request_",
    [
        ("Authenticate", pb.AuthenticateRequest(login="olivia@acme.test", password="Whatever-2026!")),
        ("ValidateSession", pb.ValidateSessionRequest(token="never-issued-" + "x" * 30)),
        ("RedeemHandoffTicket", pb.RedeemHandoffTicketRequest(ticket="never-issued-" + "x" * 30)),
        ("RequestPasswordReset", pb.RequestPasswordResetRequest(login="olivia@acme.test")),
        (
            "ChangePassword",
            pb.ChangePasswordRequest(
                session_token="never-issued-" + "x" * 30,
                current_password="Whatever-2026!",
                new_password="Whatever-2027!",
            ),
        ),
        (
            "ContactBillingAdministrator",
            pb.ContactBillingAdministratorRequest(session_token="never-issued-x"),
        ),
        (
            "ContactCustomerCare",
            pb.ContactCustomerCareRequest(name="Ana", email="ana@example.test", subject="S", message="M"),
        ),
        ("ListRepAccounts", pb.ListRepAccountsRequest(session_token="never-issued-" + "x" * 30)),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
@pytest.mark.parametrize("portal", [pb.PORTAL_UNSPECIFIED, 7], ids=["unspecified", "unknown"])
def test_a_call_without_a_known_portal_is_invalid_argument_naming_portal(identity, method, request_, portal):
    request_ = type(request_).FromString(request_.SerializeToString())
    request_.portal = portal
    assert_invalid_argument(rpc_error(getattr(identity.stub, method), request_), "portal")


# --- who may call (billing_common.service_auth): the fake admits exactly as identity does --------


def _call_as(identity: Side, credentials: CallerCredentials | None, method: str, request_: object) -> grpc.RpcError:
    port = identity.server.port
    with make_channel(f"127.0.0.1:{port}", credentials=credentials, default_timeout=10.0) as channel:
        return rpc_error(getattr(identity_pb2_grpc.IdentityServiceStub(channel), method), request_)


def test_a_call_without_service_credentials_is_unauthenticated_before_anything_else(identity, cast, addr):
    olivia = cast["olivia"]
    error = _call_as(identity, None, "Authenticate", pb.AuthenticateRequest(
        login=olivia.login, password=olivia.password, portal=pb.PORTAL_BILLING_CENTER, client_address=addr))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error.details() == "This call needs valid service credentials."


def test_a_portal_calling_provisioning_is_permission_denied(identity, cast):
    error = _call_as(identity, callers.ENTERPRISE, "AssignRep", pb.AssignRepRequest(
        rep_user_id=cast.user_ids["rita"], account_id=cast.account_ids["acme"]))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(("caller", "other"), [(callers.BILLING_CENTER, pb.PORTAL_ENTERPRISE),
                                               (callers.ENTERPRISE, pb.PORTAL_BILLING_CENTER)],
                         ids=["billing-center-web", "enterprise-portal-web"])
def test_a_portal_acting_for_the_other_portal_is_permission_denied(identity, cast, addr, caller, other):
    globex = cast["globex"]
    error = _call_as(identity, caller, "Authenticate", pb.AuthenticateRequest(
        login=globex.login, password=globex.password, portal=other, client_address=addr))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    error = _call_as(identity, caller, "RequestPasswordReset", pb.RequestPasswordResetRequest(
        login=globex.login, portal=other, client_address=addr))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
