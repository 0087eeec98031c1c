"""Identity's use cases over in-memory fakes and a FakeClock (S3-S9, S11, contact forms, provisioning)."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from billing_common.clock import utc
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
from services.identity.adapters.hashing import FakeHasher
from services.identity.domain.model import ACTIVE, DISABLED, AccountKind, Portal, Role
from services.identity.service_layer import accounts, authentication, contact, passwords, provisioning, sessions

BC, ENT = Portal.BILLING_CENTER, Portal.ENTERPRISE


def _reset_link(data, to: str) -> str:
    mail = [m for m in data.outbox if m.to == (to,) and "/reset/" in m.body][-1]
    (line,) = [ln for ln in mail.body.splitlines() if "/reset/" in ln]
    return line


def _token(link: str) -> str:
    return link.rsplit("/reset/", 1)[1]


# --- routing at sign-in ---------------------------------------------------------------------

def test_an_online_billing_contact_gets_a_session_at_the_billing_center(world, sign_in):
    result = sign_in("olivia@acme.test", BC)
    assert result.home_portal is BC
    assert result.session is not None and result.session.portal is BC
    assert result.handoff_ticket is None
    assert result.principal.role is Role.BILLING_CONTACT
    assert result.principal.account.name == "Acme Online"


def test_an_enterprise_billing_contact_at_the_billing_center_gets_a_ticket_for_the_enterprise_portal(
    deps, world, sign_in
):
    result = sign_in("globex-billing", BC)
    assert result.home_portal is ENT and result.session is None and result.handoff_ticket
    redeemed = sessions.redeem_handoff_ticket(deps, result.handoff_ticket, ENT)
    assert redeemed.session.portal is ENT
    assert redeemed.principal.user.login == "globex-billing"


def test_an_online_billing_contact_at_the_enterprise_portal_is_handed_to_the_billing_center(deps, world, sign_in):
    result = sign_in("olivia@acme.test", ENT)
    assert result.home_portal is BC and result.handoff_ticket
    assert sessions.redeem_handoff_ticket(deps, result.handoff_ticket, BC).session.portal is BC


def test_a_rep_signs_in_at_the_enterprise_portal_and_lists_the_accounts_they_serve(deps, world, sign_in):
    result = sign_in("rita.rep", ENT)
    assert result.principal.role is Role.REP and result.principal.account is None
    served = accounts.list_rep_accounts(deps, result.session.token, ENT)
    assert [a.name for a in served] == ["Globex Corporation"]


def test_only_reps_can_list_rep_accounts(deps, world, sign_in):
    token = sign_in("globex-billing", ENT).session.token
    with pytest.raises(PermissionDenied):
        accounts.list_rep_accounts(deps, token, ENT)


def test_members_of_any_account_sign_in_at_the_billing_center(world, sign_in):
    assert sign_in("mark@acme.test", BC).principal.role is Role.MEMBER
    erin = sign_in("erin@globex.test", BC)
    assert erin.session.portal is BC and erin.principal.account.kind is AccountKind.ENTERPRISE


def test_user_ids_are_case_insensitive_and_a_user_name_user_may_also_use_their_email(world, sign_in):
    assert sign_in("GLOBEX-Billing", ENT, password="Enterprise-demo-2026!").session
    assert sign_in("AP@globex.test", ENT, password="Enterprise-demo-2026!").session


# --- S3 -------------------------------------------------------------------------------------

def _failure(deps, login, password, portal):
    with pytest.raises(Unauthenticated) as err:
        authentication.authenticate(deps, login, password, portal, "198.51.100.1")
    return type(err.value), err.value.code, err.value.message, err.value.field


def test_unknown_id_wrong_password_member_at_enterprise_and_no_password_yet_fail_identically(deps, world):
    answers = {
        _failure(deps, "nobody@acme.test", "Whatever-2026!", ENT),
        _failure(deps, "globex-billing", "Wrong-password-1", ENT),
        _failure(deps, "erin@globex.test", "Member-demo-2026!", ENT),  # right password, a member
        _failure(deps, "carlos@globex.test", "Anything-2026!", ENT),  # has no password yet
    }
    assert answers == {(Unauthenticated, "UNAUTHENTICATED", "Invalid user ID/password", None)}


def test_a_password_is_verified_even_for_unknown_user_ids_and_users_without_one(deps, world, hasher):
    hasher.verified.clear()
    _failure(deps, "nobody@acme.test", "Whatever-2026!", BC)
    _failure(deps, "carlos@globex.test", "Anything-2026!", ENT)
    assert hasher.verified == [hasher.dummy_hash, hasher.dummy_hash]


def test_a_member_at_the_enterprise_portal_has_their_real_password_verified_before_refusal(deps, world, hasher):
    hasher.verified.clear()
    _failure(deps, "erin@globex.test", "Member-demo-2026!", ENT)
    assert hasher.verified == [hasher.hash("Member-demo-2026!")]


def test_empty_and_oversized_credentials_are_invalid_arguments_naming_the_field(deps, world):
    for login, password, field in [("", "x" * 8, "login"), ("a" * 255, "x" * 8, "login"),
                                   ("olivia@acme.test", "", "password"),
                                   ("olivia@acme.test", "x" * 1025, "password")]:
        with pytest.raises(InvalidArgument) as err:
            authentication.authenticate(deps, login, password, BC)
        assert err.value.field == field


# --- S4 -------------------------------------------------------------------------------------

def test_the_eleventh_attempt_is_refused_even_with_the_right_password_and_allowed_after_the_wait(
    deps, world, clock, sign_in
):
    for _ in range(10):
        _failure(deps, "olivia@acme.test", "Wrong-password-1", BC)
    with pytest.raises(RateLimited) as err:
        sign_in("olivia@acme.test", BC)
    assert err.value.retry_after > 0
    clock.advance(err.value.retry_after)
    assert sign_in("olivia@acme.test", BC).session


def test_all_aliases_of_a_user_share_one_failure_counter(deps, world):
    for i in range(10):
        _failure(deps, ["globex-billing", "GLOBEX-BILLING", "ap@globex.test"][i % 3], "Wrong-password-1", ENT)
    with pytest.raises(RateLimited):
        authentication.authenticate(deps, "Ap@Globex.Test", "Enterprise-demo-2026!", ENT, "198.51.100.9")


def _waits_after_each_further_failure(deps, clock, count: int) -> list[int]:
    for _ in range(10):
        _failure(deps, "olivia@acme.test", "Wrong-password-1", BC)
    waits = []
    for _ in range(count):
        with pytest.raises(RateLimited) as err:
            authentication.authenticate(deps, "olivia@acme.test", "Wrong-password-1", BC)
        waits.append(err.value.retry_after)
        clock.advance(err.value.retry_after)
        _failure(deps, "olivia@acme.test", "Wrong-password-1", BC)
    return waits


def test_the_delay_doubles_with_each_further_failure_within_the_window(deps, world, clock):
    assert _waits_after_each_further_failure(deps, clock, 4) == [30, 60, 120, 240]


def test_the_delay_never_exceeds_fifteen_minutes(deps, world, clock, settings):
    settings.login_base_delay = 120  # so that the cap is reached within one window
    assert _waits_after_each_further_failure(deps, clock, 4) == [120, 240, 480, 15 * 60]


def test_failures_older_than_fifteen_minutes_no_longer_count(deps, world, clock, sign_in):
    for _ in range(9):
        _failure(deps, "olivia@acme.test", "Wrong-password-1", BC)
    clock.advance(15 * 60 + 1)
    for _ in range(9):
        _failure(deps, "olivia@acme.test", "Wrong-password-1", BC)
    assert sign_in("olivia@acme.test").session


def test_unknown_user_ids_are_slowed_down_like_known_ones(deps, world):
    for _ in range(10):
        _failure(deps, "nobody@acme.test", "Wrong-password-1", BC)
    with pytest.raises(RateLimited):
        authentication.authenticate(deps, "nobody@acme.test", "Wrong-password-1", BC)


def test_failures_from_one_client_address_are_limited_across_user_ids(deps, world, settings):
    settings.login_address_max_failures = 5
    for i in range(5):
        _failure(deps, f"someone{i}@acme.test", "Wrong-password-1", BC)
    with pytest.raises(RateLimited):
        authentication.authenticate(deps, "olivia@acme.test", "Online-demo-2026!", BC, "198.51.100.1")
    # The owner elsewhere is not locked out by that address.
    assert authentication.authenticate(deps, "olivia@acme.test", "Online-demo-2026!", BC, "192.0.2.50").session


def test_a_success_clears_the_failure_count(deps, world, sign_in):
    for _ in range(9):
        _failure(deps, "olivia@acme.test", "Wrong-password-1", BC)
    sign_in("olivia@acme.test")
    for _ in range(9):
        _failure(deps, "olivia@acme.test", "Wrong-password-1", BC)
    assert sign_in("olivia@acme.test").session


def test_a_success_that_hands_over_to_the_home_portal_also_clears_the_failure_count(deps, world, sign_in):
    for _ in range(9):
        _failure(deps, "olivia@acme.test", "Wrong-password-1", ENT)
    assert sign_in("olivia@acme.test", ENT).handoff_ticket
    for _ in range(9):
        _failure(deps, "olivia@acme.test", "Wrong-password-1", ENT)
    assert sign_in("olivia@acme.test", ENT).handoff_ticket


# --- S2 (upgrade on login, with the fake hasher; the real parameters are in test_identity_hashing)

def test_an_outdated_hash_is_upgraded_at_sign_in(deps, world, data, sign_in):
    from services.identity.adapters.hashing import FakeHasher

    deps.hasher = FakeHasher(version=2)
    assert data.users[world.olivia].password_hash.startswith("fake-v1$")
    sign_in("olivia@acme.test")
    assert data.users[world.olivia].password_hash.startswith("fake-v2$")
    assert sign_in("olivia@acme.test").session


# --- S9, S11 --------------------------------------------------------------------------------

def test_a_session_token_has_at_least_128_bits_and_is_new_at_every_sign_in(world, sign_in):
    tokens = {sign_in("olivia@acme.test").session.token for _ in range(5)}
    assert len(tokens) == 5
    assert all(len(t) >= 43 for t in tokens)  # 32 random bytes in URL-safe base64


def test_the_session_store_keeps_only_a_digest_of_the_token(world, sign_in, store):
    token = sign_in("olivia@acme.test").session.token
    assert not any(token in key or token in value for key, value in store.values.items())


def test_a_valid_session_names_the_principal_and_refreshes_the_idle_timeout(deps, world, clock, sign_in):
    token = sign_in("olivia@acme.test").session.token
    for _ in range(4):
        clock.advance(25 * 60)
        signed_in = sessions.validate_session(deps, token, BC)
    assert signed_in.principal.user.email == "olivia@acme.test"
    assert signed_in.session.idle_expires_at == clock.now() + 30 * 60


def test_a_session_idle_for_thirty_minutes_is_refused(deps, world, clock, sign_in):
    token = sign_in("olivia@acme.test").session.token
    clock.advance(30 * 60)
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)


def test_a_session_older_than_twelve_hours_is_refused_even_when_in_use(deps, world, clock, sign_in):
    token = sign_in("olivia@acme.test").session.token
    for _ in range(12 * 3 - 1):
        clock.advance(20 * 60)
        sessions.validate_session(deps, token, BC)
    clock.advance(20 * 60)
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)


def test_a_signed_out_session_is_refused_and_signing_out_twice_is_fine(deps, world, sign_in):
    token = sign_in("olivia@acme.test").session.token
    sessions.sign_out(deps, token)
    sessions.sign_out(deps, token)
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)


def test_a_session_is_bound_to_the_portal_that_issued_it(deps, world, sign_in):
    bc_token = sign_in("olivia@acme.test", BC).session.token
    ent_token = sign_in("globex-billing", ENT).session.token
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, bc_token, ENT)
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, ent_token, BC)
    assert sessions.validate_session(deps, bc_token, BC)


def test_a_removed_member_loses_their_session(deps, world, sign_in):
    token = sign_in("mark@acme.test").session.token
    provisioning.remove_membership(deps, world.mark, world.online_id, by="tests")
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)


def test_disabling_a_user_or_their_account_ends_their_session_at_the_next_check(deps, world, data, sign_in):
    olivia, mark = sign_in("olivia@acme.test").session.token, sign_in("mark@acme.test").session.token
    data.users[world.olivia].status = DISABLED
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, olivia, BC)
    assert sessions.validate_session(deps, mark, BC)
    data.accounts[world.online_id].status = DISABLED
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, mark, BC)
    # Refused for good: the session was deleted, not just turned away this once.
    data.users[world.olivia].status = data.accounts[world.online_id].status = ACTIVE
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, olivia, BC)
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, mark, BC)


def test_a_session_checked_at_the_other_portal_still_works_at_its_own(deps, world, clock, sign_in):
    token = sign_in("olivia@acme.test", BC).session.token
    clock.advance(60)
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, ENT)
    assert sessions.validate_session(deps, token, BC).session.idle_expires_at == clock.now() + 30 * 60


# --- hand-off tickets -----------------------------------------------------------------------

def test_a_handoff_ticket_works_once(deps, world, sign_in):
    ticket = sign_in("globex-billing", BC).handoff_ticket
    sessions.redeem_handoff_ticket(deps, ticket, ENT)
    with pytest.raises(Unauthenticated):
        sessions.redeem_handoff_ticket(deps, ticket, ENT)


def test_a_handoff_ticket_is_refused_at_the_other_portal_and_is_used_up_by_trying(deps, world, sign_in):
    ticket = sign_in("globex-billing", BC).handoff_ticket
    with pytest.raises(Unauthenticated):
        sessions.redeem_handoff_ticket(deps, ticket, BC)
    with pytest.raises(Unauthenticated):
        sessions.redeem_handoff_ticket(deps, ticket, ENT)


def test_a_handoff_ticket_expires_after_sixty_seconds(deps, world, clock, sign_in):
    ticket = sign_in("globex-billing", BC).handoff_ticket
    clock.advance(60)
    with pytest.raises(Unauthenticated):
        sessions.redeem_handoff_ticket(deps, ticket, ENT)


# --- what ends every session of a user (S5, S9, S14) ----------------------------------------

class StoreDownAfterCommit:
    """The store failing from a moment on, as Redis does between a commit and its clean-up."""

    def __init__(self, store) -> None:
        self.store, self.down = store, False

    def __getattr__(self, name):
        attr = getattr(self.store, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            if self.down:
                raise ConnectionError("store unreachable")
            return attr(*args, **kwargs)
        return call


@pytest.fixture
def flaky(deps, store):
    """deps whose store can be cut with `flaky.store.down = True`."""
    deps.store = StoreDownAfterCommit(store)
    return deps


def test_a_member_promoted_to_enterprise_billing_contact_loses_the_billing_center_session(deps, world, sign_in):
    token = sign_in("erin@globex.test", BC).session.token
    provisioning.add_membership(deps, world.erin, world.enterprise_id, Role.BILLING_CONTACT, by="tests")
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)
    again = sign_in("erin@globex.test", BC)
    assert again.home_portal is ENT
    assert sessions.redeem_handoff_ticket(deps, again.handoff_ticket, ENT).principal.role is Role.BILLING_CONTACT


def test_a_billing_contact_made_member_loses_the_session_at_the_same_portal(deps, world, sign_in):
    token = sign_in("olivia@acme.test", BC).session.token
    provisioning.add_membership(deps, world.olivia, world.online_id, Role.MEMBER, by="tests")
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)
    assert sign_in("olivia@acme.test", BC).principal.role is Role.MEMBER


def test_a_role_changed_and_changed_back_does_not_bring_the_old_session_back(deps, world, sign_in):
    token = sign_in("olivia@acme.test", BC).session.token
    provisioning.add_membership(deps, world.olivia, world.online_id, Role.MEMBER, by="tests")
    provisioning.add_membership(deps, world.olivia, world.online_id, Role.BILLING_CONTACT, by="tests")
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)


def test_a_removed_member_added_again_does_not_get_the_old_session_back(flaky, world, sign_in):
    token = sign_in("mark@acme.test", BC).session.token
    flaky.store.down = True  # the clean-up after the removal fails
    provisioning.remove_membership(flaky, world.mark, world.online_id, by="tests")
    flaky.store.down = False
    provisioning.add_membership(flaky, world.mark, world.online_id, Role.MEMBER, by="tests")
    with pytest.raises(Unauthenticated):
        sessions.validate_session(flaky, token, BC)


def test_an_account_that_changed_kind_ends_its_contacts_sessions(deps, world, data, sign_in):
    token = sign_in("olivia@acme.test", BC).session.token
    data.accounts[world.online_id].kind = AccountKind.ENTERPRISE
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)
    assert sign_in("olivia@acme.test", BC).home_portal is ENT


def test_a_reset_ends_the_old_sessions_even_when_the_store_fails_after_the_commit(flaky, world, data, sign_in):
    old = sign_in("olivia@acme.test").session.token
    passwords.request_password_reset(flaky, "olivia@acme.test", BC)
    link_token = _token(_reset_link(data, "olivia@acme.test"))
    cut = flaky.uow

    def uow_then_store_down():
        # The transaction commits, then the store goes away before the sessions are deleted.
        uow = cut()
        commit = uow.commit

        def commit_and_cut():
            commit()
            flaky.store.down = True
        uow.commit = commit_and_cut
        return uow
    flaky.uow = uow_then_store_down
    with pytest.raises(ConnectionError):  # clearing the failed sign-ins needs the store too
        passwords.complete_password_reset(flaky, link_token, "Brand-new-2026!")
    flaky.uow, flaky.store.down = cut, False
    assert sign_in("olivia@acme.test", password="Brand-new-2026!").session
    with pytest.raises(Unauthenticated):
        sessions.validate_session(flaky, old, BC)


def test_a_handoff_ticket_issued_before_a_reset_is_refused_after_it(deps, world, data, sign_in):
    ticket = sign_in("globex-billing", BC).handoff_ticket
    passwords.request_password_reset(deps, "globex-billing", ENT)
    passwords.complete_password_reset(deps, _token(_reset_link(data, "ap@globex.test")), "Brand-new-2026!")
    with pytest.raises(Unauthenticated):
        sessions.redeem_handoff_ticket(deps, ticket, ENT)


def test_a_handoff_ticket_issued_before_a_role_change_is_refused_after_it(deps, world, sign_in):
    ticket = sign_in("globex-billing", BC).handoff_ticket
    provisioning.add_membership(deps, world.globex, world.enterprise_id, Role.MEMBER, by="tests")
    provisioning.add_membership(deps, world.globex, world.enterprise_id, Role.BILLING_CONTACT, by="tests")
    with pytest.raises(Unauthenticated):
        sessions.redeem_handoff_ticket(deps, ticket, ENT)


def test_a_password_change_ends_other_sessions_even_when_the_store_fails_and_keeps_its_own(
    flaky, world, data, sign_in
):
    other = sign_in("olivia@acme.test").session.token
    this = sign_in("olivia@acme.test").session.token
    real_end = sessions.end_sessions
    try:
        def end_with_store_down(deps, user_id, keep_digest=None):
            flaky.store.down = True
            try:
                return real_end(deps, user_id, keep_digest)
            finally:
                flaky.store.down = False
        passwords.end_sessions = end_with_store_down
        passwords.change_password(flaky, this, BC, "Online-demo-2026!", "Brand-new-2026!")
    finally:
        passwords.end_sessions = real_end
    assert sessions.validate_session(flaky, this, BC)
    with pytest.raises(Unauthenticated):
        sessions.validate_session(flaky, other, BC)


def test_a_session_written_without_a_generation_is_refused(deps, world, store, sign_in):
    token = sign_in("olivia@acme.test").session.token
    (key,) = [k for k in store.values if k.startswith("session:")]
    session = json.loads(store.values[key])
    del session["generation"]  # as sessions written before generations existed
    store.values[key] = json.dumps(session)
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, BC)


def test_a_contact_demoted_to_member_loses_their_enterprise_session(deps, world, sign_in):
    token = sign_in("globex-billing", ENT).session.token
    provisioning.add_membership(deps, world.globex, world.enterprise_id, Role.MEMBER, by="tests")
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, token, ENT)


# --- Reset/Create your password (S5-S8) -----------------------------------------------------

def test_the_reset_mail_has_the_link_on_its_own_line_at_the_configured_portal_url(deps, world, data):
    passwords.request_password_reset(deps, "globex-billing", ENT, "203.0.113.7")
    link = _reset_link(data, "ap@globex.test")
    assert re.fullmatch(r"https://enterprise\.example/reset/[A-Za-z0-9_-]{43,}", link)
    passwords.request_password_reset(deps, "olivia@acme.test", BC, "203.0.113.7")
    assert _reset_link(data, "olivia@acme.test").startswith("https://billing.example/reset/")


def test_a_reset_request_answers_before_any_lookup_so_known_and_unknown_ids_time_alike(deps, world, data):
    """S7: the answer depends on nothing about the user ID: the request is queued as it is,
    the same one write for known and unknown IDs, and the lookup behind it is deferred."""
    queued = []
    deps.defer = queued.append
    before = len(data.outbox)
    looked_up = []
    real_uow = deps.uow

    def uow():
        opened = real_uow()
        original = opened._begin

        def begin():
            original()
            opened.users = _Spy(opened.users, looked_up)

        opened._begin = begin
        return opened

    deps.uow = uow
    passwords.request_password_reset(deps, "olivia@acme.test", BC, "203.0.113.7")
    passwords.request_password_reset(deps, "nobody@nowhere.test", BC, "203.0.113.7")
    assert looked_up == [] and len(data.outbox) == before and len(queued) == 2
    waiting = sorted(data.reset_requests.values(), key=lambda r: r.login)
    assert [(r.login, r.portal, r.client_address) for r in waiting] == [
        ("nobody@nowhere.test", "billing_center", "203.0.113.7"), ("olivia@acme.test", "billing_center", "203.0.113.7")]
    for work in queued:
        work()
    assert looked_up and not data.reset_requests
    assert len(data.outbox) == before + 1 and data.outbox[-1].to == ("olivia@acme.test",)


class _Spy:
    """A repository that notes every method called on it."""

    def __init__(self, inner, calls):
        self._inner, self._calls = inner, calls

    def __getattr__(self, name):
        self._calls.append(name)
        return getattr(self._inner, name)


def test_reset_requests_beyond_the_queue_bound_are_refused_alike_whoever_they_name(deps, world, data):
    """A flood cannot grow the queue without bound; known and unknown IDs hear the same (S7)."""
    deps.defer = lambda work: None  # nothing drains the queue
    deps.settings = deps.settings.model_copy(update={"reset_queue_limit": 3})
    for login in ("olivia@acme.test", "nobody@nowhere.test", "mark@acme.test"):
        passwords.request_password_reset(deps, login, BC, "203.0.113.7")
    refusals = []
    for login in ("olivia@acme.test", "nobody@nowhere.test"):
        with pytest.raises(RateLimited) as refused:
            passwords.request_password_reset(deps, login, BC, "203.0.113.7")
        refusals.append((refused.value.message, refused.value.retry_after))
    assert refusals[0] == refusals[1] and len(data.reset_requests) == 3
    passwords.handle_reset_requests(deps)
    assert not data.reset_requests
    passwords.request_password_reset(deps, "olivia@acme.test", BC, "203.0.113.7")  # room again


def test_the_reset_mail_is_in_brazilian_portuguese_for_pt_br_users(deps, world, data):
    passwords.request_password_reset(deps, "carlos@globex.test", ENT)
    mail = data.outbox[-1]
    assert mail.subject == "Redefinir/Criar sua senha" and "Olá" in mail.body


def test_reset_tokens_are_stored_only_as_digests(deps, world, data, store):
    passwords.request_password_reset(deps, "olivia@acme.test", BC)
    token = _token(_reset_link(data, "olivia@acme.test"))
    assert not any(token in k or token in v for k, v in store.values.items())


def test_a_reset_link_creates_a_first_password_and_does_not_sign_in(deps, world, data, sign_in):
    passwords.request_password_reset(deps, "carlos@globex.test", ENT)
    token = _token(_reset_link(data, "carlos@globex.test"))
    assert passwords.check_password_reset_token(deps, token)
    assert passwords.complete_password_reset(deps, token, "Carlos-new-2026!") is None
    assert sign_in("carlos@globex.test", ENT, password="Carlos-new-2026!").session
    assert [a["action"] for a in data.audit][-1] == "password.created"


def test_a_reset_link_cannot_be_used_twice(deps, world, data):
    passwords.request_password_reset(deps, "olivia@acme.test", BC)
    token = _token(_reset_link(data, "olivia@acme.test"))
    passwords.complete_password_reset(deps, token, "Brand-new-2026!")
    assert not passwords.check_password_reset_token(deps, token)
    with pytest.raises(FailedPrecondition):
        passwords.complete_password_reset(deps, token, "Another-new-2026!")


def test_a_reset_refused_as_too_busy_leaves_the_link_usable(deps, world, data, hasher):
    passwords.request_password_reset(deps, "olivia@acme.test", BC)
    token = _token(_reset_link(data, "olivia@acme.test"))
    hasher.busy = True
    with pytest.raises(Unavailable):
        passwords.complete_password_reset(deps, token, "Brand-new-2026!")
    assert passwords.check_password_reset_token(deps, token)
    hasher.busy = False
    passwords.complete_password_reset(deps, token, "Brand-new-2026!")
    assert not passwords.check_password_reset_token(deps, token)


def test_a_good_password_signs_in_even_when_its_hash_upgrade_must_wait(deps, world, data, sign_in):
    deps.hasher = FakeHasher(version=2)  # every stored hash now "needs rehash"
    deps.hasher.busy = True
    assert sign_in("olivia@acme.test", BC).session
    with deps.uow() as uow:
        assert uow.users.by_login("olivia@acme.test").password_hash.startswith("fake-v1$")
    deps.hasher.busy = False
    sign_in("olivia@acme.test", BC)
    with deps.uow() as uow:
        assert uow.users.by_login("olivia@acme.test").password_hash.startswith("fake-v2$")


def test_a_reset_link_expires_after_thirty_minutes(deps, world, data, clock):
    passwords.request_password_reset(deps, "olivia@acme.test", BC)
    token = _token(_reset_link(data, "olivia@acme.test"))
    clock.advance(29 * 60)
    assert passwords.check_password_reset_token(deps, token)
    clock.advance(60)
    with pytest.raises(FailedPrecondition):
        passwords.complete_password_reset(deps, token, "Brand-new-2026!")


def test_a_newer_reset_request_invalidates_the_older_link(deps, world, data):
    passwords.request_password_reset(deps, "olivia@acme.test", BC)
    older = _token(_reset_link(data, "olivia@acme.test"))
    passwords.request_password_reset(deps, "olivia@acme.test", BC)
    newer = _token(_reset_link(data, "olivia@acme.test"))
    assert not passwords.check_password_reset_token(deps, older)
    with pytest.raises(FailedPrecondition):
        passwords.complete_password_reset(deps, older, "Brand-new-2026!")
    passwords.complete_password_reset(deps, newer, "Brand-new-2026!")


@pytest.mark.parametrize("password", ["short7!", "password123"])
def test_a_refused_new_password_leaves_the_link_usable(deps, world, data, password):
    passwords.request_password_reset(deps, "olivia@acme.test", BC)
    token = _token(_reset_link(data, "olivia@acme.test"))
    with pytest.raises(InvalidArgument) as err:
        passwords.complete_password_reset(deps, token, password)
    assert err.value.field == "new_password"
    assert passwords.check_password_reset_token(deps, token)


def test_a_reset_ends_every_session_and_mails_a_notice(deps, world, data, sign_in):
    old = sign_in("olivia@acme.test").session.token
    passwords.request_password_reset(deps, "olivia@acme.test", BC)
    passwords.complete_password_reset(deps, _token(_reset_link(data, "olivia@acme.test")), "Brand-new-2026!")
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, old, BC)
    notice = data.outbox[-1]
    assert notice.to == ("olivia@acme.test",) and notice.subject == "Your password was changed"
    assert [a["action"] for a in data.audit][-1] == "password.reset"


def test_a_reset_answers_the_same_whether_or_not_the_user_id_exists(deps, world, data):
    before = len(data.outbox)
    assert passwords.request_password_reset(deps, "nobody@acme.test", BC) is None
    assert len(data.outbox) == before
    assert passwords.request_password_reset(deps, "olivia@acme.test", BC) is None
    assert len(data.outbox) == before + 1


def test_the_sixth_reset_request_in_an_hour_sends_no_mail_but_answers_the_same(deps, world, data, clock):
    for _ in range(5):
        assert passwords.request_password_reset(deps, "olivia@acme.test", BC, "203.0.113.7") is None
        clock.advance(60)
    sent = len(data.outbox)
    last_link = _reset_link(data, "olivia@acme.test")
    assert passwords.request_password_reset(deps, "olivia@acme.test", BC, "203.0.113.7") is None
    assert len(data.outbox) == sent
    assert passwords.check_password_reset_token(deps, _token(last_link))  # the last mailed link still works
    clock.advance(60 * 60)
    passwords.request_password_reset(deps, "olivia@acme.test", BC, "203.0.113.7")
    assert len(data.outbox) == sent + 1


def test_reset_requests_from_one_address_are_limited_across_user_ids(deps, world, data, settings):
    settings.reset_requests_per_address = 2
    for login in ("olivia@acme.test", "mark@acme.test", "globex-billing"):
        passwords.request_password_reset(deps, login, BC, "198.51.100.7")
    assert {m.to for m in data.outbox if "/reset/" in m.body} == {("olivia@acme.test",), ("mark@acme.test",)}


def test_a_user_id_too_long_for_a_reset_is_an_invalid_argument(deps, world):
    with pytest.raises(InvalidArgument) as err:
        passwords.request_password_reset(deps, "x" * 255, BC)
    assert err.value.field == "login"


# --- change password (S1, S5) ---------------------------------------------------------------

def test_changing_the_password_needs_the_current_one(deps, world, sign_in):
    token = sign_in("olivia@acme.test").session.token
    with pytest.raises(InvalidArgument) as err:
        passwords.change_password(deps, token, BC, "Not-the-password-1", "Brand-new-2026!")
    assert err.value.field == "current_password"
    passwords.change_password(deps, token, BC, "Online-demo-2026!", "Brand-new-2026!")
    assert sign_in("olivia@acme.test", password="Brand-new-2026!").session


def test_changing_the_password_ends_other_sessions_keeps_this_one_and_mails_a_notice(deps, world, data, sign_in):
    other = sign_in("olivia@acme.test").session.token
    this = sign_in("olivia@acme.test").session.token
    passwords.change_password(deps, this, BC, "Online-demo-2026!", "Brand-new-2026!")
    assert sessions.validate_session(deps, this, BC)
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, other, BC)
    assert data.outbox[-1].subject == "Your password was changed"
    assert [a["action"] for a in data.audit][-1] == "password.changed"


@pytest.mark.parametrize(("new", "accepted"), [("Seven7!", False), ("Eight8!x", True), ("Q" * 64, True),
                                               ("w" * 128, True), ("Password1", False)])
def test_password_policy_applies_when_changing(deps, world, sign_in, new, accepted):
    token = sign_in("olivia@acme.test").session.token
    if accepted:
        passwords.change_password(deps, token, BC, "Online-demo-2026!", new)
    else:
        with pytest.raises(InvalidArgument):
            passwords.change_password(deps, token, BC, "Online-demo-2026!", new)


@pytest.mark.parametrize(("password", "accepted"), [("Seven7!", False), ("Eight8!x", True), ("Q" * 64, True),
                                                    ("w" * 128, True), ("iloveyou", False)])
def test_password_policy_applies_when_creating_and_resetting(deps, world, data, password, accepted):
    if accepted:
        provisioning.create_user(deps, "new.user", "new@acme.test", "New User", "en", password, by="tests")
    else:
        with pytest.raises(InvalidArgument) as err:
            provisioning.create_user(deps, "new.user", "new@acme.test", "New User", "en", password, by="tests")
        assert err.value.field == "password"
    passwords.request_password_reset(deps, "olivia@acme.test", BC)
    token = _token(_reset_link(data, "olivia@acme.test"))
    if accepted:
        passwords.complete_password_reset(deps, token, password)
    else:
        with pytest.raises(InvalidArgument):
            passwords.complete_password_reset(deps, token, password)


# --- accounts and the contact forms ---------------------------------------------------------

def test_an_account_comes_with_its_billing_contacts(deps, world):
    view = accounts.get_account(deps, world.enterprise_id)
    assert view.account.name == "Globex Corporation"
    assert {(u.name, u.email) for u in view.billing_contacts} == {
        ("Globex AP", "ap@globex.test"), ("Carlos Contact", "carlos@globex.test")}
    with pytest.raises(NotFound):
        accounts.get_account(deps, "no-such-account")


def test_the_billing_contacts_of_several_accounts_come_in_one_call_with_their_languages(deps, world):
    found = {v.account.id: v for v in accounts.list_billing_contacts(
        deps, [world.enterprise_id, world.online_id, world.enterprise_id, "no-such-account", "bad\x00id"])}
    assert set(found) == {world.enterprise_id, world.online_id}
    assert [(u.name, u.email, u.locale) for u in found[world.enterprise_id].billing_contacts] == [
        ("Carlos Contact", "carlos@globex.test", "pt-BR"), ("Globex AP", "ap@globex.test", "en")]
    assert accounts.list_billing_contacts(deps, []) == []
    with pytest.raises(InvalidArgument) as error:
        accounts.list_billing_contacts(deps, ["a"] * 1001)
    assert error.value.field == "account_ids"


def test_a_member_mails_every_billing_contact_from_the_fixed_template(deps, world, data, sign_in):
    token = sign_in("erin@globex.test").session.token
    n = contact.contact_billing_administrator(deps, token, BC, "Please add two seats.\nThanks!")
    assert n == 2
    mails = data.outbox[-2:]
    assert {m.to for m in mails} == {("ap@globex.test",), ("carlos@globex.test",)}
    assert all(m.reply_to == "erin@globex.test" for m in mails)
    english = next(m for m in mails if m.to == ("ap@globex.test",))
    assert "Erin Member (erin@globex.test)" in english.body and "Please add two seats.\nThanks!" in english.body
    portuguese = next(m for m in mails if m.to == ("carlos@globex.test",))
    assert portuguese.subject.startswith("Um membro de Globex Corporation")
    assert data.audit[-1]["action"] == "billing_administrator.contacted"


def test_billing_contacts_cannot_send_the_member_message(deps, world, sign_in):
    token = sign_in("olivia@acme.test").session.token
    with pytest.raises(FailedPrecondition):
        contact.contact_billing_administrator(deps, token, BC, "")


@pytest.mark.parametrize("note", ["x" * 501, "bell\x07", "escape\x1b[31m"])
def test_the_members_note_is_short_plain_text(deps, world, sign_in, note):
    token = sign_in("mark@acme.test").session.token
    with pytest.raises(InvalidArgument) as err:
        contact.contact_billing_administrator(deps, token, BC, note)
    assert err.value.field == "note"


def test_the_member_message_is_rate_limited(deps, world, data, clock, sign_in):
    token = sign_in("mark@acme.test").session.token
    for _ in range(3):
        contact.contact_billing_administrator(deps, token, BC, "")
    with pytest.raises(RateLimited) as err:
        contact.contact_billing_administrator(deps, token, BC, "")
    clock.advance(err.value.retry_after)
    token = sign_in("mark@acme.test").session.token  # the first session has idled out meanwhile
    assert contact.contact_billing_administrator(deps, token, BC, "") == 1


def test_customer_care_mail_goes_to_the_configured_address_with_reply_to_the_sender(deps, data):
    contact.contact_customer_care(deps, "Pat", "pat@example.test", "Cannot sign in", "Help me\nplease",
                                   ENT, "203.0.113.9")
    mail = data.outbox[-1]
    assert mail.to == ("care@example.test",) and mail.reply_to == "pat@example.test"
    assert mail.subject == "[Customer Care] Cannot sign in" and "Help me\nplease" in mail.body


@pytest.mark.parametrize(("field", "value"), [("name", ""), ("name", "n" * 101), ("email", "not-an-email"),
                                              ("subject", "two\nlines"), ("subject", "s" * 151),
                                              ("message", "m" * 5001), ("message", "")])
def test_customer_care_input_is_validated(deps, field, value):
    form = {"name": "Pat", "email": "pat@example.test", "subject": "Hi", "message": "Hello"} | {field: value}
    with pytest.raises(InvalidArgument) as err:
        contact.contact_customer_care(deps, portal=BC, client_address="203.0.113.9", **form)
    assert err.value.field == field


def test_customer_care_takes_a_name_of_100_and_a_subject_of_150_characters_as_the_form_does(deps, data):
    contact.contact_customer_care(deps, "n" * 100, "pat@example.test", "s" * 150, "Hello", BC, "203.0.113.9")
    assert data.outbox[-1].subject.endswith("s" * 150)


@pytest.mark.parametrize("make", [
    lambda deps: provisioning.create_account(deps, "n" * 101, AccountKind.ONLINE, "USD", "en", by="tests"),
    lambda deps: provisioning.create_user(deps, "long.name", "long@example.test", "n" * 101, "en", by="tests"),
], ids=["account", "user"])
def test_names_longer_than_100_characters_are_refused_naming_the_field(deps, make):
    with pytest.raises(InvalidArgument) as err:
        make(deps)
    assert err.value.field == "name" and "100" in err.value.message


def test_customer_care_is_rate_limited_per_client_address(deps, data):
    for _ in range(5):
        contact.contact_customer_care(deps, "Pat", "pat@example.test", "Hi", "Hello", BC, "203.0.113.9")
    with pytest.raises(RateLimited):
        contact.contact_customer_care(deps, "Pat", "pat@example.test", "Hi", "Hello", BC, "203.0.113.9")
    contact.contact_customer_care(deps, "Sam", "sam@example.test", "Hi", "Hello", BC, "203.0.113.10")


# --- provisioning ---------------------------------------------------------------------------

def test_provisioning_is_audited(deps, world, data):
    actions = [a["action"] for a in data.audit]
    assert actions.count("account.created") == 2
    assert actions.count("user.created") == 6
    assert actions.count("membership.added") == 5
    assert actions.count("rep.assigned") == 1


def test_provisioned_accounts_users_and_their_audit_rows_carry_the_clock_s_time_in_utc(deps, data, clock):
    clock.advance(0.25)
    account = provisioning.create_account(deps, "Initech", AccountKind.ONLINE, "USD", "en", by="tests")
    user = provisioning.create_user(deps, "peter@initech.test", "peter@initech.test", "Peter", "en", by="tests")
    assert account.created_at == user.created_at == data.audit[-1]["at"] == utc(clock.now())
    assert account.created_at.utcoffset() == dt.timedelta(0)


def test_audit_rows_never_hold_passwords(deps, world, data):
    assert not any("demo-2026" in repr(row) for row in data.audit)


@pytest.mark.parametrize(("login", "email", "field"), [("OLIVIA@acme.test", "other@acme.test", "login"),
                                                       ("new.user", "AP@globex.test", "email"),
                                                       ("ap@globex.test", "x@acme.test", "login")])
def test_a_taken_user_id_or_email_is_already_exists(deps, world, login, email, field):
    with pytest.raises(AlreadyExists) as err:
        provisioning.create_user(deps, login, email, "Someone", "en", by="tests")
    assert err.value.field == field


@pytest.mark.parametrize(("args", "field"), [
    (("", AccountKind.ONLINE, "USD", "en"), "name"),
    (("Acme", AccountKind.ONLINE, "XYZ", "en"), "currency"),
    (("Acme", AccountKind.ONLINE, "usd", "en"), "currency"),
    (("Acme", AccountKind.ONLINE, "USD", "fr"), "locale"),
])
def test_accounts_need_a_name_a_known_currency_and_a_supported_locale(deps, args, field):
    with pytest.raises(InvalidArgument) as err:
        provisioning.create_account(deps, *args, by="tests")
    assert err.value.field == field


def test_a_user_belongs_to_at_most_one_account(deps, world):
    with pytest.raises(FailedPrecondition):
        provisioning.add_membership(deps, world.mark, world.enterprise_id, Role.MEMBER, by="tests")


def test_membership_roles_change_and_memberships_are_removed(deps, world, data):
    provisioning.add_membership(deps, world.mark, world.online_id, Role.BILLING_CONTACT, by="tests")
    assert data.memberships[world.mark].role is Role.BILLING_CONTACT
    provisioning.remove_membership(deps, world.mark, world.online_id, by="tests")
    assert world.mark not in data.memberships
    with pytest.raises(NotFound):
        provisioning.remove_membership(deps, world.mark, world.online_id, by="tests")
    assert [a["action"] for a in data.audit][-2:] == ["membership.role_changed", "membership.removed"]


def test_reps_are_staff_and_serve_enterprise_accounts_only(deps, world):
    with pytest.raises(FailedPrecondition):
        provisioning.assign_rep(deps, world.olivia, world.enterprise_id, by="tests")
    with pytest.raises(FailedPrecondition):
        provisioning.assign_rep(deps, world.rita, world.online_id, by="tests")
    with pytest.raises(InvalidArgument):
        provisioning.add_membership(deps, world.mark, world.online_id, Role.REP, by="tests")
    with pytest.raises(FailedPrecondition):
        provisioning.add_membership(deps, world.rita, world.online_id, Role.MEMBER, by="tests")


def test_a_failed_use_case_writes_nothing(deps, world, data):
    before = (dict(data.users), list(data.audit))
    with pytest.raises(AlreadyExists):
        provisioning.create_user(deps, "olivia@acme.test", "olivia@acme.test", "Dup", "en", "Fine-password-2026",
                                 by="tests")
    assert (dict(data.users), list(data.audit)) == before


def test_control_characters_in_user_ids_and_ids_match_nobody(deps, world, hasher):
    hasher.verified.clear()
    _failure(deps, "olivia@acme.test\x00", "Online-demo-2026!", BC)
    assert hasher.verified == [hasher.dummy_hash]
    with pytest.raises(NotFound):
        accounts.get_account(deps, world.online_id + "\x00")
    with pytest.raises(NotFound):
        provisioning.add_membership(deps, "\x00", world.online_id, Role.MEMBER, by="tests")


def test_a_reset_request_with_control_characters_writes_nothing_and_answers_as_for_anyone(deps, world, data):
    before = len(data.outbox)
    assert passwords.request_password_reset(deps, "olivia@acme.test\x00", BC) is None
    assert len(data.outbox) == before
    with pytest.raises(InvalidArgument) as err:
        passwords.request_password_reset(deps, "olivia@acme.test", BC, "\x00")
    assert err.value.field == "client_address"
