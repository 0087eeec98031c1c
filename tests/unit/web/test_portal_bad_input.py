"""Bad input gets a 400 naming the field, never a 500 (S24), including fuzzed forms."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.web.helpers import csrf_from, field_error, post_form, sign_in, text

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.parametrize("data, field, message", [
    ({"login": "", "password": "x"}, "login", "User ID is required."),
    ({"login": "   ", "password": "x"}, "login", "User ID is required."),
    ({"login": "olivia@acme.test", "password": ""}, "password", "Password is required."),
    ({"password": "x"}, "login", "User ID is required."),
    ({"login": "a" * 10_000, "password": "x"}, "login", "User ID is too long (at most 254 characters)."),
    ({"login": "olivia@acme.test", "password": "p" * 10_000}, "password",
     "Password is too long (at most 1024 characters)."),
    ({"login": "olivia\x00@acme.test", "password": "x"}, "login", "User ID contains characters that are not allowed."),
    ({"login": "olivia@acme.test", "password": "pa\x1bss"}, "password",
     "Password contains characters that are not allowed."),
    ({"login": "olivia\u202e@acme.test", "password": "x"}, "login",
     "User ID contains characters that are not allowed."),
])
def test_bad_sign_in_input_is_a_400_naming_the_field(bc, world, data, field, message):
    response = post_form(bc, "/sign-in", data)
    assert response.status_code == 400
    assert field_error(text(response), field) == message
    assert "Authenticate" not in world.identity.calls


@pytest.mark.parametrize("data, field", [
    ({"name": "", "email": "a@b.test", "subject": "s", "message": "m"}, "name"),
    ({"name": "A", "email": "not-an-email", "subject": "s", "message": "m"}, "email"),
    ({"name": "A", "email": "a@b.test", "subject": "s" * 10_000, "message": "m"}, "subject"),
    ({"name": "A", "email": "a@b.test", "subject": "s", "message": "m" * 10_000}, "message"),
    ({"name": "A\x07", "email": "a@b.test", "subject": "s", "message": "m"}, "name"),
    ({"name": "A", "email": "a@b.test", "subject": "line\nbreak", "message": "m"}, "subject"),
    ({"name": "A", "email": "a@b.test", "subject": "s", "message": "bell\x07"}, "message"),
])
def test_bad_customer_care_input_is_a_400_naming_the_field(bc, world, data, field):
    response = post_form(bc, "/help/contact", data)
    assert response.status_code == 400
    assert field_error(text(response), field)
    assert world.identity.care_mails == []


def test_bytes_that_are_not_utf8_are_refused_naming_the_field(bc, world):
    token = csrf_from(text(bc.get("/sign-in")))
    body = b"csrf_token=" + token.encode() + b"&login=%FF%FEolivia&password=x"
    response = bc.post("/sign-in", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert field_error(text(response), "login") == "User ID contains characters that are not allowed."
    raw = b"csrf_token=" + token.encode() + b"&login=ol\xffivia&password=x"
    response = bc.post("/sign-in", data=raw, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and field_error(text(response), "login")


def test_an_oversized_body_is_a_413_page(bc):
    token = csrf_from(text(bc.get("/sign-in")))
    response = bc.post("/sign-in", data={"csrf_token": token, "login": "a" * 100_000, "password": "x"})
    assert response.status_code == 413
    assert "The form sent more data than this page accepts." in text(response)


def test_odd_paths_and_queries_never_cause_a_500(bc, world):
    for path in ("/reset/%00", "/reset/" + "a" * 5000, "/reset/..%2F..", "/sign-in?next=%FF%FE",
                 "/%FF", "/help?x=" + "y" * 5000, "/static/../../etc/passwd"):
        assert bc.get(path).status_code < 500, path


def test_a_wellformed_but_unknown_reset_token_shows_the_invalid_link_page(bc):
    response = bc.get("/reset/" + "A" * 43)
    assert response.status_code == 404
    assert "This link is invalid, expired or already used." in text(response)


@FUZZ
@given(login=st.text(max_size=300), password=st.text(max_size=300))
def test_fuzzed_sign_in_never_fails_on_the_server(bc, login, password):
    response = sign_in(bc, login, password)
    assert response.status_code < 500
    assert response.status_code in (200, 302, 400, 413)


@FUZZ
@given(name=st.text(max_size=200), email=st.one_of(st.emails(), st.text(max_size=100)),
       subject=st.text(max_size=200), message=st.text(max_size=2000))
def test_fuzzed_customer_care_never_fails_on_the_server(ebp, name, email, subject, message):
    response = post_form(ebp, "/help/contact", {"name": name, "email": email, "subject": subject,
                                                "message": message})
    assert response.status_code in (200, 400, 413)


@FUZZ
@given(st.dictionaries(st.sampled_from(["login", "password", "csrf_token", "extra", "lang", "next"]),
                       st.text(max_size=100), max_size=6))
def test_fuzzed_form_fields_of_any_shape_never_fail_on_the_server(bc, fields):
    for path in ("/sign-in", "/reset", "/language"):
        assert bc.post(path, data=fields).status_code < 500
