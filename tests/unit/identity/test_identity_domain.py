"""The identity domain: user IDs, the password policy (S1), and the routing rule."""
from __future__ import annotations

import pytest

from billing_common.errors import InvalidArgument
from services.identity.domain import passwords
from services.identity.domain.model import (
    AccountKind,
    Portal,
    Role,
    home_portal,
    is_valid_login,
    may_sign_in_at,
    normalize_login,
    validate_login,
    validate_text,
)
from services.identity.domain.passwords import check_password_policy


@pytest.mark.parametrize("login", ["globex-billing", "rita.rep", "a_b", "x" * 64, "ap@globex.test",
                                   "Olivia.O+billing@Acme.Test"])
def test_user_names_and_email_addresses_are_valid_user_ids(login):
    assert is_valid_login(login)


@pytest.mark.parametrize("login", ["ab", "x" * 65, "has space", "olivia@", "@acme.test", "a@b", "é@x.y z",
                                   "a@b.c\x00", "name/with/slash", "a" * 250 + "@b.co",
                                   "a@" + "\u0130" * 200 + ".test"])
def test_malformed_user_ids_are_refused_naming_the_field(login):
    assert not is_valid_login(login)
    with pytest.raises(InvalidArgument) as err:
        validate_login(login)
    assert err.value.field == "login"


def test_user_ids_are_compared_case_insensitively():
    assert normalize_login(" Globex-Billing ") == normalize_login("globex-billing")
    assert normalize_login("AP@Globex.TEST") == "ap@globex.test"


@pytest.mark.parametrize(
    ("role", "kind", "portal"),
    [
        (Role.REP, None, Portal.ENTERPRISE),
        (Role.BILLING_CONTACT, AccountKind.ENTERPRISE, Portal.ENTERPRISE),
        (Role.BILLING_CONTACT, AccountKind.ONLINE, Portal.BILLING_CENTER),
        (Role.MEMBER, AccountKind.ONLINE, Portal.BILLING_CENTER),
        (Role.MEMBER, AccountKind.ENTERPRISE, Portal.BILLING_CENTER),
    ],
)
def test_each_person_has_one_home_portal(role, kind, portal):
    assert home_portal(role, kind) is portal


def test_members_may_not_sign_in_at_the_enterprise_portal_but_everyone_else_may():
    assert not may_sign_in_at(Portal.ENTERPRISE, Role.MEMBER)
    assert may_sign_in_at(Portal.BILLING_CENTER, Role.MEMBER)
    for role in (Role.BILLING_CONTACT, Role.REP):
        for portal in Portal:
            assert may_sign_in_at(portal, role)


# --- S1 --------------------------------------------------------------------------------------

def test_a_seven_character_password_is_refused():
    with pytest.raises(InvalidArgument) as err:
        check_password_policy("Zq8#vL2", field="new_password")
    assert err.value.field == "new_password"


@pytest.mark.parametrize("length", [8, 64, 128, 1024])
def test_passwords_of_8_to_1024_characters_are_accepted_whole(length):
    password = ("Zq8#vL2!mK" * 103)[:length]
    assert check_password_policy(password) == password  # nothing cut off


def test_a_password_longer_than_1024_characters_is_refused_not_truncated():
    with pytest.raises(InvalidArgument):
        check_password_policy("Zq8#vL2!mK" * 103)


def test_any_unicode_is_accepted_and_there_are_no_composition_rules():
    assert check_password_policy("ação çãõ пароль 密码") == "ação çãõ пароль 密码"
    assert check_password_policy("correcthorsebatterystaplezz")  # lower-case letters only


def test_unicode_is_normalised_so_the_same_password_typed_differently_matches():
    composed, decomposed = "senha-caf\u00e9-2026", "senha-cafe\u0301-2026"
    assert check_password_policy(composed) == check_password_policy(decomposed)


@pytest.mark.parametrize("password", ["password1", "PASSWORD1", "Iloveyou1", "qwertyuiop", "1234567890"])
def test_the_most_common_passwords_are_refused_whatever_their_case(password):
    with pytest.raises(InvalidArgument, match="common"):
        check_password_policy(password)


def test_the_common_password_list_is_the_shipped_10000_loaded_once():
    passwords.common_passwords.cache_clear()
    first = passwords.common_passwords()
    assert len(first) >= 9_900  # a few entries differ only by case
    assert passwords.common_passwords() is first


def test_free_text_refuses_control_characters_but_multiline_text_keeps_newlines():
    assert validate_text("  hello\nthere ", "note", max_length=500, multiline=True) == "hello\nthere"
    with pytest.raises(InvalidArgument) as err:
        validate_text("line\nbreak", "subject", max_length=200)
    assert err.value.field == "subject"
    with pytest.raises(InvalidArgument):
        validate_text("bell\x07", "note", max_length=500, multiline=True)
    with pytest.raises(InvalidArgument):
        validate_text("x" * 501, "note", max_length=500)
