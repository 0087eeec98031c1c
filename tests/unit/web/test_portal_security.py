"""Cookies (S10), portal-bound sessions (S11), headers (S12), fail closed (S15), CSRF (S16)."""
from __future__ import annotations

import pytest
from flask import request

from tests.pages import text_of
from tests.unit.web.helpers import csrf_from, hidden, post_form, set_cookies, sign_in, text

SIGNED_IN_PAGES = ["/", "/billing-contacts", "/account/password", "/help", "/help/contact"]


def test_cookies_are_httponly_samesite_lax_and_not_secure_in_local_development(bc):
    response = sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    cookies = set_cookies(response)
    for name in ("bc_session", "bc_csrf"):
        cookie = cookies[name]
        assert cookie["httponly"] is True
        assert str(cookie["samesite"]).lower() == "lax"
        assert cookie["path"] == "/"
        assert cookie["secure"] is False
        assert "domain" not in cookie


@pytest.mark.parametrize("portal, stem", [("bc", "bc"), ("ebp", "ebp")])
def test_secure_cookies_carry_the_host_prefix(make_app, portal, stem):
    app = make_app(portal, COOKIE_SECURE=True)
    client = app.test_client()
    login, password = ("olivia@acme.test", "Online-demo-2026!") if portal == "bc" else (
        "globex-billing", "Enterprise-demo-2026!")
    response = sign_in(client, login, password, base_url="https://localhost")
    assert response.status_code == 302
    cookies = set_cookies(response)
    session = cookies[f"__Host-{stem}_session"]
    csrf = cookies[f"__Host-{stem}_csrf"]
    for cookie in (session, csrf):
        assert cookie["secure"] is True and cookie["httponly"] is True
        assert str(cookie["samesite"]).lower() == "lax"
        assert cookie["path"] == "/" and "domain" not in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_two_portals_use_different_cookie_names(bc, ebp):
    bc_cookies = set_cookies(sign_in(bc, "olivia@acme.test", "Online-demo-2026!"))
    ebp_cookies = set_cookies(sign_in(ebp, "globex-billing", "Enterprise-demo-2026!"))
    assert not set(bc_cookies) & set(ebp_cookies)


def test_a_billing_center_session_carried_to_the_enterprise_portal_is_refused(bc, ebp):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    token = bc.get_cookie("bc_session").value
    ebp.set_cookie("ebp_session", token)
    response = ebp.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert set_cookies(response)["ebp_session"]["value"] == ""


def test_an_enterprise_session_carried_to_the_billing_center_is_refused(bc, ebp):
    sign_in(ebp, "globex-billing", "Enterprise-demo-2026!")
    bc.set_cookie("bc_session", ebp.get_cookie("ebp_session").value)
    response = bc.get("/billing-contacts")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"


@pytest.mark.parametrize("path, data", [
    ("/sign-in", {"login": "olivia@acme.test", "password": "Online-demo-2026!"}),
    ("/reset", {"login": "olivia@acme.test"}),
    ("/help/contact", {"name": "A", "email": "a@b.test", "subject": "S", "message": "M"}),
    ("/language", {"lang": "pt_BR", "next": "/"}),
    ("/sign-out", {}),
])
def test_a_post_without_csrf_token_is_refused_with_a_400_page(bc, world, path, data):
    bc.get("/sign-in")  # a session with a CSRF secret exists, but the form omits the token
    response = bc.post(path, data=data)
    assert response.status_code == 400
    assert text_of(response, "error-title") == "The form has expired"
    assert text_of(response, "error-message") == (
        "This form was not sent from this site or it has expired. Go back, reload the page and try again.")
    assert "Traceback" not in text(response)
    assert not world.identity.reset_requests and not world.identity.care_mails
    assert "bc_session" not in set_cookies(response)


def test_a_post_with_a_forged_csrf_token_is_refused(bc):
    bc.get("/sign-in")
    response = bc.post("/sign-in", data={"csrf_token": "forged", "login": "olivia@acme.test",
                                         "password": "Online-demo-2026!"})
    assert response.status_code == 400


def test_a_signed_in_post_without_token_changes_nothing(bc, world):
    sign_in(bc, "mark@acme.test", "Member-demo-2026!")
    response = bc.post("/contact-billing-admin", data={"note": "hi"})
    assert response.status_code == 400 and world.identity.admin_mails == []


def test_every_response_carries_the_security_headers(bc):
    for path in ("/sign-in", "/help", "/reset", "/nowhere", "/healthz"):
        headers = bc.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp
        assert "form-action 'self' http://ebp.localtest:8081" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == ("no-referrer" if path == "/reset" else "same-origin")


def test_pages_have_no_inline_script_or_style(bc):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    for path in SIGNED_IN_PAGES:
        page = text(bc.get(path))
        assert "<script>" not in page and "<style" not in page and " style=" not in page
        assert " onclick=" not in page and " onload=" not in page


def test_signed_in_and_sign_in_pages_are_never_stored(bc):
    for path in ("/sign-in", "/reset"):
        assert bc.get(path).headers["Cache-Control"] == "no-store"
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    for path in SIGNED_IN_PAGES:
        response = bc.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_the_reset_pages_send_no_referrer(bc, world):
    assert bc.get("/reset").headers["Referrer-Policy"] == "no-referrer"
    token = world.identity.issue_reset_token("olivia@acme.test")
    assert bc.get(f"/reset/{token}").headers["Referrer-Policy"] == "no-referrer"
    assert bc.get("/reset/not-a-real-token-but-well-formed").headers["Referrer-Policy"] == "no-referrer"


def test_identity_down_gives_a_clear_503_page_with_no_data(bc, world):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    world.identity_server.stop()
    for path in ("/", "/billing-contacts"):
        response = bc.get(path)
        assert response.status_code == 503
        page = text(response)
        assert text_of(response, "error-message") == (
            "The service is temporarily unavailable, try again in a few minutes.")
        assert "Acme Online" not in page and "Olivia" not in page and "Traceback" not in page
    # Signing in while identity is down: the same page, not an error trace.
    response = sign_in(bc.application.test_client(), "olivia@acme.test", "Online-demo-2026!")
    assert response.status_code == 503
    assert text_of(response, "error-message") == (
        "The service is temporarily unavailable, try again in a few minutes.")


def test_the_backend_down_gives_the_503_page_too(bc, world):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    world.online_server.stop()
    response = bc.get("/")
    assert response.status_code == 503
    assert text_of(response, "error-message") == (
        "The service is temporarily unavailable, try again in a few minutes.")
    assert "$12,345.00" not in text(response) and "Acme Online" not in text(response)


def test_healthz_needs_nothing_and_readyz_follows_the_grpc_health_of_both_services(bc, world):
    ready = bc.get("/readyz")
    assert ready.status_code == 200 and ready.get_data(as_text=True) == "identity: SERVING\nbackend: SERVING\n"
    world.online_server.stop()
    assert bc.get("/healthz").status_code == 200
    not_ready = bc.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.get_data(as_text=True) == "identity: SERVING\nbackend: NOT_SERVING\n"


def test_readyz_is_503_when_identity_is_down(ebp, world):
    world.identity_server.stop()
    not_ready = ebp.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.get_data(as_text=True) == "identity: NOT_SERVING\nbackend: SERVING\n"
    assert ebp.get("/healthz").get_data(as_text=True) == "ok\n"


def test_handoff_page_needs_no_inline_script_and_posts_the_ticket(bc):
    page = text(sign_in(bc, "globex-billing", "Enterprise-demo-2026!"))
    assert hidden(page, "ticket")
    assert "<script src=" in page and "<script>" not in page


def test_the_language_switcher_only_redirects_to_local_paths(bc):
    for target in ("https://evil.test/", "//evil.test/x", "/\\evil.test", "javascript:alert(1)"):
        response = post_form(bc, "/sign-in", {"lang": "en", "next": target}, action="/language")
        assert response.status_code == 302
        assert response.headers["Location"] == "/", target


def test_a_get_never_changes_state(bc, world):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    for path in ("/sign-out", "/language", "/contact-billing-admin", "/handoff"):
        assert bc.get(path).status_code == 405
    assert bc.get("/").status_code == 200  # still signed in


def test_csrf_token_is_rotated_at_sign_in(bc):
    before = csrf_from(text(bc.get("/sign-in")))
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    after = csrf_from(text(bc.get("/account/password")))
    assert before.split(".")[0] != after.split(".")[0]


# --- the hand-off only accepts posts from the other portal (login CSRF) ----------------------

def _ticket_for(bc, login="globex-billing", password="Enterprise-demo-2026!") -> str:
    return hidden(text(sign_in(bc, login, password)), "ticket")


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://ebp.localtest:8081"},            # this portal itself, not the other one
    {"Origin": "http://bc.localtest:9999"},             # same host, another port: another origin
    {"Origin": "https://bc.localtest:8080"},            # another scheme: another origin
    {"Origin": "http://bc.localtest:8080.evil.example"},
    {"Referer": "http://evil.example/bc.localtest:8080/sign-in"},
    {"Origin": "http://evil.example", "Referer": "http://bc.localtest:8080/sign-in"},
    {},                                                 # neither Origin nor Referer
])
def test_a_handoff_posted_from_anywhere_but_the_other_portal_is_refused_unredeemed(bc, ebp, world, headers):
    ticket = _ticket_for(bc)
    response = ebp.post("/handoff", data={"ticket": ticket}, headers=headers)
    assert response.status_code == 403
    assert text_of(response, "error-message") == (
        "This sign-in did not come from the Billing Center. Please sign in here.")
    assert "ebp_session" not in set_cookies(response)
    assert "RedeemHandoffTicket" not in world.identity.calls
    assert ticket in world.identity.tickets  # nothing was used up


def test_an_attacker_cannot_sign_a_victims_browser_in_with_their_own_ticket(bc, ebp, world):
    # The attacker gets a ticket for their own user ID, then makes the victim's browser post it.
    attackers_ticket = _ticket_for(bc.application.test_client())
    response = ebp.post("/handoff", data={"ticket": attackers_ticket},
                        headers={"Origin": "https://evil.example", "Referer": "https://evil.example/x"})
    assert response.status_code == 403
    assert ebp.get("/").headers["Location"] == "/sign-in"


@pytest.mark.parametrize("headers", [
    {"Origin": "http://bc.localtest:8080"},
    {"Origin": "HTTP://BC.localtest:8080"},
    {"Referer": "http://bc.localtest:8080/sign-in"},    # a browser that sent no Origin
])
def test_a_handoff_posted_from_the_other_portals_page_is_redeemed(bc, ebp, headers):
    response = ebp.post("/handoff", data={"ticket": _ticket_for(bc)}, headers=headers)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert text_of(ebp.get("/"), "account-name") == "Globex Corporation"


def test_default_ports_are_the_same_origin_as_none(make_app, world):
    ebp = make_app("ebp", BILLING_CENTER_URL="https://bc.example:443/").test_client()
    bc = make_app("bc", ENTERPRISE_PORTAL_URL="https://ebp.example").test_client()
    ticket = _ticket_for(bc)
    response = ebp.post("/handoff", data={"ticket": ticket}, headers={"Origin": "https://bc.example"},
                        base_url="https://localhost")
    assert response.status_code == 302


def test_the_handoff_page_sends_its_origin_to_the_other_portal(bc):
    # With the site-wide same-origin policy a browser would post "Origin: null" cross-site.
    response = sign_in(bc, "globex-billing", "Enterprise-demo-2026!")
    assert response.headers["Referrer-Policy"] == "strict-origin"
    assert bc.get("/sign-in").headers["Referrer-Policy"] == "same-origin"


# --- a new session ends the one the browser had ------------------------------------------------

def _sign_in_again(client, login, password):
    # Signed in, GET /sign-in redirects: the sign-in form is posted with a token of another page.
    return post_form(client, "/help", {"login": login, "password": password}, action="/sign-in")


def test_signing_in_over_a_session_signs_the_old_session_out(bc, world):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    old = bc.get_cookie("bc_session").value
    response = _sign_in_again(bc, "mark@acme.test", "Member-demo-2026!")
    assert response.status_code == 302
    new = set_cookies(response)["bc_session"]["value"]
    assert new != old and new in world.identity.sessions
    assert old not in world.identity.sessions
    assert text_of(bc.get("/"), "user-name") == "Mark Member"


def test_signing_in_again_still_works_when_the_old_session_cannot_be_signed_out(bc, world):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    world.identity.rate_limited["SignOut"] = 60  # SignOut now fails: best effort only
    response = _sign_in_again(bc, "olivia@acme.test", "Online-demo-2026!")
    assert response.status_code == 302 and "bc_session" in set_cookies(response)
    assert "SignOut" in world.identity.calls


def test_a_handoff_over_a_session_signs_the_old_session_out(bc, ebp, world):
    sign_in(ebp, "rita.rep", "Rep-demo-2026!")
    old = ebp.get_cookie("ebp_session").value
    response = ebp.post("/handoff", data={"ticket": _ticket_for(bc)}, headers={"Origin": "http://bc.localtest:8080"})
    assert response.status_code == 302
    assert set_cookies(response)["ebp_session"]["value"] != old
    assert old not in world.identity.sessions
    assert text_of(ebp.get("/"), "account-name") == "Globex Corporation"


def test_a_first_sign_in_signs_nothing_out(bc, world):
    assert sign_in(bc, "olivia@acme.test", "Online-demo-2026!").status_code == 302
    assert "SignOut" not in world.identity.calls


# --- the visitor's address behind a proxy (per-address rate limits) ----------------------------

VISITOR, PROXY = "203.0.113.7", "10.0.0.5"


def test_behind_one_trusted_proxy_the_forwarded_address_reaches_identity(make_app, world):
    client = make_app("bc", TRUSTED_PROXIES=1).test_client()
    # The first entry was written by the client itself: only the proxy's own entry counts.
    sign_in(client, "olivia@acme.test", "wrong-password", environ_base={"REMOTE_ADDR": PROXY},
            headers={"X-Forwarded-For": f"198.51.100.99, {VISITOR}"})
    post_form(client, "/reset", {"login": "olivia@acme.test"}, environ_base={"REMOTE_ADDR": PROXY},
              headers={"X-Forwarded-For": VISITOR})
    assert world.identity.client_addresses == [("Authenticate", VISITOR), ("RequestPasswordReset", VISITOR)]


def test_without_trusted_proxies_x_forwarded_for_is_ignored(bc, world):
    sign_in(bc, "olivia@acme.test", "wrong-password", environ_base={"REMOTE_ADDR": PROXY},
            headers={"X-Forwarded-For": VISITOR})
    assert world.identity.client_addresses == [("Authenticate", PROXY)]


def test_behind_a_trusted_proxy_the_forwarded_scheme_is_used(make_app):
    seen = []
    for proxies in (1, 0):
        app = make_app("bc", TRUSTED_PROXIES=proxies)

        @app.get("/_scheme")
        def _scheme():  # type: ignore[no-untyped-def]
            seen.append(request.scheme)
            return ""

        app.test_client().get("/_scheme", headers={"X-Forwarded-Proto": "https"})
    assert seen == ["https", "http"]


def test_a_page_view_and_its_grpc_calls_share_one_request_id(bc, world):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    first, second = bc.get("/"), bc.get("/")
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert ids[0] != ids[1] and all(len(i) == 32 for i in ids)
    assert world.identity.request_ids[-2:] == ids  # each view's ValidateSession carried its id
