"""The device cookie (S4 with OWASP's device cookies; its attributes per S10): a browser that
signed in keeps identity's device token and sends it with its next sign-ins."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest

from tests.unit.web.helpers import form_error, post_form, set_cookies, sign_in, text

OLIVIA, PASSWORD = "olivia@acme.test", "Online-demo-2026!"


def test_a_successful_sign_in_leaves_a_long_lived_httponly_samesite_lax_device_cookie(bc, world):
    response = sign_in(bc, OLIVIA, PASSWORD)
    cookie = set_cookies(response)["bc_device"]
    assert world.identity.device_tokens[str(cookie["value"])] == world.identity.find(OLIVIA).user_id
    assert cookie["httponly"] is True and cookie["secure"] is False
    assert str(cookie["samesite"]).lower() == "lax"
    assert cookie["path"] == "/" and "domain" not in cookie
    expires = parsedate_to_datetime(str(cookie["expires"]))
    assert expires > datetime.now(UTC) + timedelta(days=90)


@pytest.mark.parametrize("portal, stem, login, password", [
    ("bc", "bc", OLIVIA, PASSWORD), ("ebp", "ebp", "globex-billing", "Enterprise-demo-2026!")])
def test_a_secure_device_cookie_carries_the_host_prefix(make_app, portal, stem, login, password):
    client = make_app(portal, COOKIE_SECURE=True).test_client()
    response = sign_in(client, login, password, base_url="https://localhost")
    cookie = set_cookies(response)[f"__Host-{stem}_device"]
    assert cookie["secure"] is True and cookie["httponly"] is True
    assert str(cookie["samesite"]).lower() == "lax"
    assert cookie["path"] == "/" and "domain" not in cookie


def test_the_browser_sends_its_device_token_with_the_next_sign_in_even_after_signing_out(bc, world):
    assert sign_in(bc, OLIVIA, PASSWORD).status_code == 302
    kept = bc.get_cookie("bc_device").value
    signed_out = post_form(bc, "/", {}, action="/sign-out")
    assert "bc_device" not in set_cookies(signed_out)
    sign_in(bc, OLIVIA, PASSWORD)
    assert world.identity.device_tokens_sent[-1] == kept
    assert bc.get_cookie("bc_device").value != kept  # renewed at every sign-in


def test_a_sign_in_handed_over_to_the_other_portal_also_leaves_a_device_cookie(bc, world):
    response = sign_in(bc, "globex-billing", "Enterprise-demo-2026!")
    assert response.status_code == 200 and 'name="ticket"' in text(response)
    assert set_cookies(response)["bc_device"]["value"]


def test_a_device_cookie_that_cannot_be_a_token_is_not_sent(bc, world):
    bc.set_cookie("bc_device", "not a token; at all")
    sign_in(bc, OLIVIA, PASSWORD)
    assert world.identity.device_tokens_sent[-1] == ""


def test_while_an_attacker_makes_new_browsers_wait_the_owners_browser_signs_in(make_app, world):
    owners_browser = make_app("bc").test_client()
    assert sign_in(owners_browser, OLIVIA, PASSWORD).status_code == 302
    post_form(owners_browser, "/", {}, action="/sign-out")
    attacker = make_app("bc").test_client()
    for _ in range(10):
        assert form_error(text(sign_in(attacker, OLIVIA, "Wrong-password-1"))) == "Invalid user ID/password"
    new_browser = make_app("bc").test_client()
    refused = sign_in(new_browser, OLIVIA, PASSWORD)
    assert refused.status_code == 429
    assert form_error(text(refused)) == "Too many attempts. Try again in 1 minute."
    assert sign_in(owners_browser, OLIVIA, PASSWORD).status_code == 302
