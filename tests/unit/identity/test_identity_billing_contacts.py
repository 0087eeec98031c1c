"""Billing contacts of enterprise accounts and handovers, over in-memory fakes and a FakeClock
(S13, S14, S17, the audit log, the notices, the 7-day expiry)."""
from __future__ import annotations

import datetime as dt

import pytest

from billing_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from services.identity.domain.contacts import HANDOVER_TTL, Handover, HandoverStatus, check_decider
from services.identity.domain.model import AccountKind, Portal, Role
from services.identity.service_layer import billing_contacts as bc
from services.identity.service_layer import passwords, provisioning, sessions

ENT = Portal.ENTERPRISE


@pytest.fixture
def session(sign_in):
    def session(login: str) -> str:
        return sign_in(login, ENT).session.token

    return session


@pytest.fixture
def other_account(deps):
    """A second enterprise account with a contact of its own (S13)."""
    other = provisioning.create_account(deps, "Initech", AccountKind.ENTERPRISE, "BRL", "pt-BR", by="tests")
    u = provisioning.create_user(deps, "initech-ap", "ap@initech.test", "Initech AP", "pt-BR", "Initech-demo-2026!",
                                 by="tests")
    provisioning.add_membership(deps, u.id, other.id, Role.BILLING_CONTACT, by="tests")
    return other.id


def _add(deps, token, world, login="dana@globex.test", email="dana@globex.test", name="Dana New", locale=""):
    return bc.add_billing_contact(deps, token, ENT, world.enterprise_id, login, email, name, locale)


def _mails_to(data, address):
    return [m for m in data.outbox if m.to == (address,)]


# --- listing ---------------------------------------------------------------------------------

def test_a_contact_lists_the_accounts_contacts_with_primary_and_last_sign_in(deps, world, session, clock):
    token = session("globex-billing")
    listed = bc.list_billing_contacts(deps, token, ENT, world.enterprise_id)
    assert [(c.user.name, c.primary) for c in listed] == [("Carlos Contact", False), ("Globex AP", False)]
    by_name = {c.user.name: c.user for c in listed}
    assert by_name["Globex AP"].last_sign_in_at is not None
    assert by_name["Carlos Contact"].last_sign_in_at is None


def test_a_rep_lists_the_contacts_of_an_account_they_serve_only(deps, world, session, other_account):
    token = session("rita.rep")
    assert len(bc.list_billing_contacts(deps, token, ENT, world.enterprise_id)) == 2
    with pytest.raises(NotFound):  # S13, S14: not an account Rita serves
        bc.list_billing_contacts(deps, token, ENT, other_account)


def test_another_accounts_contact_gets_not_found_s13(deps, world, session, other_account):
    token = session("globex-billing")
    with pytest.raises(NotFound):
        bc.list_billing_contacts(deps, token, ENT, other_account)
    with pytest.raises(NotFound):
        bc.add_billing_contact(deps, token, ENT, other_account, "dana@globex.test", "dana@globex.test", "Dana", "")


def test_unknown_and_malformed_account_ids_are_not_found_or_invalid(deps, world, session):
    token = session("globex-billing")
    with pytest.raises(NotFound):
        bc.list_billing_contacts(deps, token, ENT, "no-such-account")
    with pytest.raises(NotFound):
        bc.list_billing_contacts(deps, token, ENT, "bad\x00id")
    with pytest.raises(InvalidArgument) as err:
        bc.list_billing_contacts(deps, token, ENT, "")
    assert err.value.field == "account_id"


def test_a_rep_cannot_add_remove_or_make_primary_s14(deps, world, session):
    token = session("rita.rep")
    with pytest.raises(PermissionDenied):
        _add(deps, token, world)
    with pytest.raises(PermissionDenied):
        bc.set_primary_billing_contact(deps, token, ENT, world.enterprise_id, world.globex)


def test_a_signed_out_session_can_do_nothing(deps, world, session):
    token = session("globex-billing")
    sessions.sign_out(deps, token)
    with pytest.raises(Unauthenticated):
        bc.list_billing_contacts(deps, token, ENT, world.enterprise_id)


# --- adding ----------------------------------------------------------------------------------

def test_adding_a_contact_provisions_them_without_password_and_mails_a_create_password_link(
        deps, world, session, data):
    token = session("globex-billing")
    user = _add(deps, token, world, locale="pt-BR")
    assert user.password_hash is None
    stored = data.users[user.id]
    assert stored.password_hash is None and data.memberships[user.id].role is Role.BILLING_CONTACT
    (welcome, notice) = _mails_to(data, "dana@globex.test")
    assert welcome.subject == "Crie sua senha do Portal de Cobrança Empresarial"
    (link,) = [ln for ln in welcome.body.splitlines() if "/reset/" in ln]
    assert link.startswith("https://enterprise.example/reset/")
    token_part = link.rsplit("/", 1)[1]
    assert passwords.check_password_reset_token(deps, token_part)
    passwords.complete_password_reset(deps, token_part, "Dana-chose-2026!")
    signed = bc.list_billing_contacts(deps, token, ENT, world.enterprise_id)
    assert [c.user.name for c in signed] == ["Carlos Contact", "Dana New", "Globex AP"]


def test_the_create_password_link_lasts_seven_days(deps, world, session, data, clock):
    token = session("globex-billing")
    _add(deps, token, world)
    (welcome, _notice) = _mails_to(data, "dana@globex.test")
    link_token = [ln for ln in welcome.body.splitlines() if "/reset/" in ln][0].rsplit("/", 1)[1]
    clock.advance(6 * 24 * 3600)
    assert passwords.check_password_reset_token(deps, link_token)
    clock.advance(2 * 24 * 3600)
    assert not passwords.check_password_reset_token(deps, link_token)


def test_every_contact_gets_a_notice_in_their_language_and_the_change_is_audited(deps, world, session, data):
    token = session("globex-billing")
    user = _add(deps, token, world)
    (to_globex,) = _mails_to(data, "ap@globex.test")
    assert to_globex.subject == "The billing contacts of Globex Corporation changed"
    assert to_globex.body == (
        "Hello Globex AP,\n\n"
        "Globex AP added Dana New (dana@globex.test) as a billing contact.\n\n"
        "The billing contacts of Globex Corporation are now:\n"
        "- Carlos Contact <carlos@globex.test>\n- Dana New <dana@globex.test>\n- Globex AP <ap@globex.test>\n\n"
        "If you did not expect this change, talk to the account's other billing contacts or to\n"
        "your representative.\n"
    )
    (to_carlos,) = _mails_to(data, "carlos@globex.test")
    assert to_carlos.subject == "Os contatos de cobrança de Globex Corporation mudaram"
    entry = data.audit[-1]
    assert (entry["actor"], entry["action"], entry["user_id"], entry["account_id"]) == (
        world.globex, "billing_contact.added", user.id, world.enterprise_id)


@pytest.mark.parametrize(("field", "values"), [
    ("login", {"login": "x y"}),
    ("login", {"login": ""}),
    ("email", {"email": "not-an-email"}),
    ("name", {"name": ""}),
    ("name", {"name": "Bad\x07Name"}),
    ("locale", {"locale": "fr"}),
])
def test_bad_input_is_invalid_argument_naming_the_field_and_writes_nothing(
        deps, world, session, data, field, values):
    token = session("globex-billing")
    before = (len(data.users), len(data.outbox), len(data.audit))
    with pytest.raises(InvalidArgument) as err:
        _add(deps, token, world, **values)
    assert err.value.field == field
    assert (len(data.users), len(data.outbox), len(data.audit)) == before


def test_a_taken_user_id_or_email_is_already_exists(deps, world, session):
    token = session("globex-billing")
    with pytest.raises(AlreadyExists) as err:
        _add(deps, token, world, login="GLOBEX-billing")
    assert err.value.field == "login"
    with pytest.raises(AlreadyExists) as err:
        _add(deps, token, world, email="ap@globex.test")
    assert err.value.field == "email"


def test_a_member_cannot_change_the_contacts_s14(deps, world, sign_in):
    # Members cannot sign in at the Enterprise portal at all; a session elsewhere is no use here.
    token = sign_in("erin@globex.test", Portal.BILLING_CENTER).session.token
    with pytest.raises(Unauthenticated):
        _add(deps, token, world)


def test_changes_need_a_sign_in_within_fifteen_minutes_s17(deps, world, session, clock):
    token = session("globex-billing")
    clock.advance(15 * 60 + 1)
    sessions.validate_session(deps, token, ENT)  # still signed in (idle 30 minutes) ...
    with pytest.raises(FailedPrecondition) as err:  # ... but not recently enough to change contacts
        _add(deps, token, world)
    assert err.value.field == "session_token"
    assert len(bc.list_billing_contacts(deps, token, ENT, world.enterprise_id)) == 2  # reading is fine


# --- removing and primary ---------------------------------------------------------------------

def test_removing_a_contact_ends_their_sessions_and_mails_them_too(deps, world, session, data, sign_in):
    token = session("globex-billing")
    dana = _add(deps, token, world)
    passwords.complete_password_reset(
        deps, [ln for ln in _mails_to(data, "dana@globex.test")[0].body.splitlines()
               if "/reset/" in ln][0].rsplit("/", 1)[1], "Dana-chose-2026!")
    dana_token = sign_in("dana@globex.test", ENT, password="Dana-chose-2026!").session.token
    bc.remove_billing_contact(deps, token, ENT, world.enterprise_id, dana.id)
    with pytest.raises(Unauthenticated):
        sessions.validate_session(deps, dana_token, ENT)
    assert dana.id not in data.memberships
    assert _mails_to(data, "dana@globex.test")[-1].body.splitlines()[2] == (
        "Globex AP removed Dana New (dana@globex.test) from the billing contacts.")
    assert data.audit[-1]["action"] == "billing_contact.removed"


def test_the_last_contact_cannot_be_removed(deps, world, session, other_account, sign_in):
    token = sign_in("initech-ap", ENT, password="Initech-demo-2026!").session.token
    (only,) = bc.list_billing_contacts(deps, token, ENT, other_account)
    with pytest.raises(FailedPrecondition) as err:
        bc.remove_billing_contact(deps, token, ENT, other_account, only.user.id)
    assert err.value.field == "user_id"


def test_the_primary_contact_is_one_and_cannot_be_removed_until_another_is_primary(deps, world, session, data):
    token = session("globex-billing")
    bc.set_primary_billing_contact(deps, token, ENT, world.enterprise_id, world.carlos)
    bc.set_primary_billing_contact(deps, token, ENT, world.enterprise_id, world.globex)
    listed = bc.list_billing_contacts(deps, token, ENT, world.enterprise_id)
    assert [(c.user.name, c.primary) for c in listed] == [("Carlos Contact", False), ("Globex AP", True)]
    with pytest.raises(FailedPrecondition):
        bc.remove_billing_contact(deps, token, ENT, world.enterprise_id, world.globex)
    bc.remove_billing_contact(deps, token, ENT, world.enterprise_id, world.carlos)
    assert data.audit[-1]["action"] == "billing_contact.removed"
    assert "Globex AP <ap@globex.test> (primary)" in _mails_to(data, "ap@globex.test")[-1].body


def test_a_member_or_unknown_user_cannot_be_made_primary_or_removed(deps, world, session):
    token = session("globex-billing")
    for user_id in (world.erin, world.olivia, "nobody", ""):
        with pytest.raises(NotFound):
            bc.set_primary_billing_contact(deps, token, ENT, world.enterprise_id, user_id)
        with pytest.raises(NotFound):
            bc.remove_billing_contact(deps, token, ENT, world.enterprise_id, user_id)


# --- handovers -------------------------------------------------------------------------------

def _propose(deps, token, world, replaced, login="hana@globex.test"):
    return bc.propose_handover(deps, token, ENT, world.enterprise_id, replaced, login, login, "Hana Handover", "")


def test_a_handover_approved_by_another_contact_replaces_the_contact(deps, world, session, data, sign_in):
    globex = session("globex-billing")
    bc.set_primary_billing_contact(deps, globex, ENT, world.enterprise_id, world.globex)
    h = _propose(deps, globex, world, world.globex)
    assert "Globex AP proposed that Hana Handover (hana@globex.test) replace Globex AP (ap@globex.test)" in \
        _mails_to(data, "ap@globex.test")[-1].body
    with pytest.raises(PermissionDenied):  # the proposer cannot approve their own
        bc.decide_handover(deps, globex, ENT, world.enterprise_id, h.id, approve=True)
    # Carlos approves (he creates his password first to sign in).
    provisioning_token = passwords.issue_password_link(deps, world.carlos, ENT, 600).rsplit("/", 1)[1]
    passwords.complete_password_reset(deps, provisioning_token, "Carlos-chose-2026!")
    carlos = sign_in("carlos@globex.test", ENT, password="Carlos-chose-2026!").session.token
    assert [v.handover.id for v in bc.list_handovers(deps, carlos, ENT, world.enterprise_id)] == [h.id]
    done = bc.decide_handover(deps, carlos, ENT, world.enterprise_id, h.id, approve=True)
    assert done.status is HandoverStatus.APPROVED
    listed = bc.list_billing_contacts(deps, carlos, ENT, world.enterprise_id)
    assert [(c.user.name, c.primary) for c in listed] == [("Carlos Contact", False), ("Hana Handover", True)]
    with pytest.raises(Unauthenticated):  # the replaced contact's session ended
        sessions.validate_session(deps, globex, ENT)
    assert any("/reset/" in m.body for m in _mails_to(data, "hana@globex.test"))
    assert _mails_to(data, "ap@globex.test")[-1].body.splitlines()[2].startswith(
        "Carlos Contact approved the handover: Hana Handover (hana@globex.test) replaces Globex AP")
    assert data.audit[-1]["action"] == "handover.approved"
    assert bc.list_handovers(deps, carlos, ENT, world.enterprise_id) == []


def test_the_rep_approves_a_handover_waiting_for_them(deps, world, session):
    globex = session("globex-billing")
    h = _propose(deps, globex, world, world.carlos)
    rita = session("rita.rep")
    waiting = bc.list_handovers(deps, rita, ENT, "")
    assert [(v.handover.id, v.account.name, v.replaced.name) for v in waiting] == [
        (h.id, "Globex Corporation", "Carlos Contact")]
    bc.decide_handover(deps, rita, ENT, world.enterprise_id, h.id, approve=True)
    assert [c.user.name for c in bc.list_billing_contacts(deps, rita, ENT, world.enterprise_id)] == [
        "Globex AP", "Hana Handover"]


def test_a_declined_handover_changes_nothing(deps, world, session, data):
    globex = session("globex-billing")
    h = _propose(deps, globex, world, world.carlos)
    bc.decide_handover(deps, session("rita.rep"), ENT, world.enterprise_id, h.id, approve=False)
    assert data.handovers[h.id].status is HandoverStatus.DECLINED
    assert [c.user.name for c in bc.list_billing_contacts(deps, globex, ENT, world.enterprise_id)] == [
        "Carlos Contact", "Globex AP"]
    with pytest.raises(FailedPrecondition):
        bc.decide_handover(deps, session("rita.rep"), ENT, world.enterprise_id, h.id, approve=True)


def test_a_pending_handover_expires_after_seven_days(deps, world, session, clock):
    h = _propose(deps, session("globex-billing"), world, world.carlos)
    clock.advance(HANDOVER_TTL.total_seconds())
    rita = session("rita.rep")
    assert bc.list_handovers(deps, rita, ENT, "") == []
    with pytest.raises(FailedPrecondition) as err:
        bc.decide_handover(deps, rita, ENT, world.enterprise_id, h.id, approve=True)
    assert err.value.field == "handover_id"


def test_another_accounts_handover_is_not_found(deps, world, session, other_account, sign_in):
    h = _propose(deps, session("globex-billing"), world, world.carlos)
    initech = sign_in("initech-ap", ENT, password="Initech-demo-2026!").session.token
    with pytest.raises(NotFound):
        bc.decide_handover(deps, initech, ENT, other_account, h.id, approve=True)
    with pytest.raises(NotFound):
        bc.decide_handover(deps, initech, ENT, world.enterprise_id, h.id, approve=True)


def test_one_pending_handover_per_contact_and_the_new_person_must_be_free(deps, world, session):
    globex = session("globex-billing")
    _propose(deps, globex, world, world.carlos)
    with pytest.raises(FailedPrecondition):
        _propose(deps, globex, world, world.carlos, login="other@globex.test")
    with pytest.raises(AlreadyExists):
        _propose(deps, globex, world, world.globex, login="erin@globex.test")
    with pytest.raises(NotFound):
        _propose(deps, globex, world, world.erin, login="x@globex.test")


def test_the_decider_rule():
    now = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    h = Handover("h", "a", "p", "r", "n", "n@x.test", "N", "en", proposed_at=now)
    check_decider(h, "p", actor_is_rep=False, contact_ids=["p", "r"], approve=False, now=now)  # withdraw
    check_decider(h, "r", actor_is_rep=False, contact_ids=["p", "r"], approve=True, now=now)
    check_decider(h, "rep", actor_is_rep=True, contact_ids=["p", "r"], approve=True, now=now)
    with pytest.raises(PermissionDenied):
        check_decider(h, "p", actor_is_rep=False, contact_ids=["p", "r"], approve=True, now=now)
    with pytest.raises(PermissionDenied):
        check_decider(h, "stranger", actor_is_rep=False, contact_ids=["p", "r"], approve=True, now=now)
    with pytest.raises(FailedPrecondition):
        check_decider(h, "r", actor_is_rep=False, contact_ids=["p", "r"], approve=True, now=now + HANDOVER_TTL)


def test_the_accounts_rep_is_mailed_that_a_handover_waits_for_them(deps, world, session, data):
    _propose(deps, session("globex-billing"), world, world.carlos)
    (mail,) = _mails_to(data, "rita@meetings.example")
    assert mail.subject == "A billing contact handover of Globex Corporation waits for your approval"
    assert mail.body.splitlines()[2] == (
        "Globex AP proposed that Hana Handover (hana@globex.test) replace Carlos Contact (carlos@globex.test) as a "
        "billing")
