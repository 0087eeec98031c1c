"""Bad input gets a 400 naming the field, never a 500 (S24), including fuzzed forms."""
from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_common import limits
from tests.pages import text_of
from tests.unit.web.conftest import EBP_URL
from tests.unit.web.helpers import csrf_from, field_error, post_form, sign_in, text
from web.common import forms

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


@pytest.mark.parametrize("field, limit", [("name", limits.MAX_NAME), ("subject", limits.MAX_SUBJECT),
                                          ("message", limits.MAX_MESSAGE)])
def test_the_customer_care_form_takes_exactly_what_identity_takes(bc, world, field, limit):
    # billing_common.limits is the one definition: a form never accepts what identity refuses.
    data = {"name": "A", "email": "a@b.test", "subject": "s", "message": "m"}
    assert post_form(bc, "/help/contact", {**data, field: "x" * limit}).status_code == 200
    refused = post_form(bc, "/help/contact", {**data, field: "x" * (limit + 1)})
    assert refused.status_code == 400 and field_error(text(refused), field)
    assert len(world.identity.care_mails) == 1


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
    assert text_of(response, "error-message") == "The form sent more data than this page accepts."


def test_odd_paths_and_queries_never_cause_a_500(bc, world):
    for path in ("/reset/%00", "/reset/" + "a" * 5000, "/reset/..%2F..", "/sign-in?next=%FF%FE",
                 "/%FF", "/help?x=" + "y" * 5000, "/static/../../etc/passwd"):
        assert bc.get(path).status_code < 500, path


def test_a_wellformed_but_unknown_reset_token_shows_the_invalid_link_page(bc):
    response = bc.get("/reset/" + "A" * 43)
    assert response.status_code == 404
    assert text_of(response, "reset-invalid") == "This link is invalid, expired or already used."


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


BOUNDARY = "fuzz-boundary-7f3a"
FIELD_NAMES = ["login", "password", "extra", "lang", "next", "ticket", "name", "email", "subject",
               "message", "note", "new_password", "confirm_password", "current_password"]
# Every form-taking page, and what is posted with it (the hand-off's origin check passes).
FORM_PATHS = [("/sign-in", {}), ("/reset", {}), ("/language", {}), ("/help/contact", {}),
              ("/handoff", {"Origin": EBP_URL})]


def multipart(parts: list[tuple[str, bytes, str | None]]) -> bytes:
    """A multipart/form-data body; a part with a filename (even "") is a file part."""
    out = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + value + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def token_of(client, path="/sign-in") -> str:
    return csrf_from(text(client.get(path)))


@pytest.mark.parametrize("path, fields", [
    ("/sign-in", {"password": "x"}),
    ("/help/contact", {"name": "A", "email": "a@b.test", "subject": "S", "message": "M"}),
    ("/reset", {}),
])
def test_a_form_with_a_file_part_is_a_400_page_saying_files_are_not_accepted(bc, world, path, fields):
    data = {"csrf_token": token_of(bc), "login": (io.BytesIO(b"olivia@acme.test"), "a.txt"), **fields}
    response = bc.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert text_of(response, "error-message") == "This form does not accept files."
    assert not world.identity.calls and not world.identity.care_mails


def test_a_file_part_named_like_a_text_field_with_an_empty_filename_is_refused_too(bc, world):
    body = multipart([("csrf_token", token_of(bc).encode(), None), ("login", b"", ""),
                      ("password", b"x", None)])
    response = bc.post("/sign-in", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 400
    assert text_of(response, "error-message") == "This form does not accept files."


def test_a_multipart_form_without_files_works_like_an_urlencoded_one(bc, world):
    body = multipart([("csrf_token", token_of(bc).encode(), None), ("login", b"olivia@acme.test", None),
                      ("password", b"Online-demo-2026!", None)])
    response = bc.post("/sign-in", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_multipart_bytes_that_are_not_utf8_are_refused_naming_the_field(bc, world):
    body = multipart([("csrf_token", token_of(bc).encode(), None), ("login", b"ol\xffivia", None),
                      ("password", b"x", None)])
    response = bc.post("/sign-in", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 400
    assert field_error(text(response), "login") == "User ID contains characters that are not allowed."
    assert "Authenticate" not in world.identity.calls


@pytest.mark.parametrize("content_type, body", [
    ("application/json", b'{"login": "olivia@acme.test", "password": "x"}'),
    ("text/plain", b"login=olivia@acme.test&password=x"),
    ("application/xml", b"<login/>"),
    ("image/png", b"\x89PNG\r\n"),
    (None, b"login=olivia@acme.test"),
])
def test_a_body_of_another_type_is_a_415_page(bc, world, content_type, body):
    token_of(bc)
    headers = {"Content-Type": content_type} if content_type else {}
    response = bc.post("/sign-in", data=body, headers=headers)
    assert response.status_code == 415
    assert text_of(response, "error-message") == "The form was sent in a format this page does not accept."
    assert "Authenticate" not in world.identity.calls


def test_an_empty_post_without_a_type_is_an_empty_form_refused_by_csrf(bc):
    bc.get("/sign-in")
    response = bc.post("/sign-in")
    assert response.status_code == 400 and text_of(response, "error-title") == "The form has expired"


def test_a_body_that_cannot_be_read_is_a_400_page(bc, world):
    class Broken(io.BytesIO):
        """A connection that breaks while the body is read."""

        def _fail(self, *args: object) -> bytes:
            raise OSError("connection reset by peer")

        read = read1 = readline = readinto = _fail  # type: ignore[assignment]

    response = bc.post("/sign-in", input_stream=Broken(b"login=x&password=yyyy"), content_length=20,
                       content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert text_of(response, "error-message") == (
        "The form could not be read. Go back, reload the page and try again.")
    assert not world.identity.calls


@pytest.mark.parametrize(("validator", "refusal", "message"), [
    (forms.Required(), forms.StopValidation, "User ID must be text."),
    (forms.Optional(), forms.StopValidation, "User ID must be text."),
    # Length and CleanText read what is not text as "": nothing to refuse; the Required or
    # Optional that comes first in every chain has already refused it.
    (forms.Length(10), None, None),
    (forms.CleanText(), None, None),
    (forms.PossibleUserId(), forms.ValidationError, "Invalid user ID"),
    (forms.Email(), forms.ValidationError, "Enter a valid email address."),
    (forms.NewPassword(), forms.ValidationError, "The new password must have at least 8 characters."),
])
@pytest.mark.parametrize("data", [io.BytesIO(b"x"), ["a", "b"], 42, object()])
def test_validators_refuse_data_that_is_not_text_without_failing(bc_app, validator, refusal, message, data):
    with bc_app.test_request_context("/sign-in", method="POST"):
        form = forms.SignInForm(formdata=None, meta={"csrf": False})
        form.login.data = data
        form.login.errors = []  # as Form.validate() prepares it
        if refusal is None:
            validator(form, form.login)
            return
        with pytest.raises(refusal) as refused:
            validator(form, form.login)
        # StopValidation subclasses ValidationError: the kind must be the one expected.
        assert type(refused.value) is refusal
        assert str(refused.value) == message


def test_required_names_a_field_that_got_a_file_instead_of_text(bc_app):
    with bc_app.test_request_context("/sign-in", method="POST"):
        form = forms.SignInForm(formdata=None, meta={"csrf": False})
        form.login.data = io.BytesIO(b"x")
        form.password.data = "x"
        assert not form.validate()
        assert form.login.errors == ["User ID must be text."]


@FUZZ
@given(fields=st.dictionaries(st.sampled_from([*FIELD_NAMES, "csrf_token"]), st.text(max_size=100), max_size=6),
       with_token=st.booleans())
def test_fuzzed_form_fields_of_any_shape_never_fail_on_the_server(bc, fields, with_token):
    # With the page's real token the fuzzed contents reach the validators (and identity).
    token = token_of(bc)
    for path, headers in FORM_PATHS:
        data = {"csrf_token": token, **fields} if with_token else fields
        assert bc.post(path, data=data, headers=headers).status_code < 500, path


_VALUES = st.one_of(st.text(max_size=80), st.binary(max_size=80),
                    st.sampled_from([b"\xff\xfe", b"\xed\xa0\x80", b"%FF%00", b"\x00", b"a" * 300]))
_SHAPES = st.sampled_from(["urlencoded", "urlencoded-raw", "multipart", "multipart-file", "odd-type",
                           "no-boundary", "raw"])
_ODD_TYPES = st.sampled_from(["application/json", "text/plain", "multipart/mixed", "application/octet-stream",
                              "application/x-www-form-urlencoded; charset=latin-1", "x/y", ";;;", "",
                              "multipart/form-data; boundary=", "multipart/form-data; boundary=\"unclosed"])


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value


def _body(shape: str, token: str, fields: list[tuple[str, str | bytes]], odd_type: str,
          raw: bytes) -> tuple[bytes, str]:
    pairs = [("csrf_token", token.encode()), *((name, _as_bytes(value)) for name, value in fields)]
    if shape == "urlencoded":
        from urllib.parse import quote_from_bytes
        body = "&".join(f"{name}={quote_from_bytes(value)}" for name, value in pairs).encode()
        return body, "application/x-www-form-urlencoded"
    if shape == "urlencoded-raw":  # bytes as they come, not %-escaped (invalid UTF-8 included)
        return b"&".join(name.encode() + b"=" + value for name, value in pairs), \
            "application/x-www-form-urlencoded"
    if shape in ("multipart", "multipart-file"):
        parts = [(name, value, None) for name, value in pairs]
        if shape == "multipart-file":
            parts.append((fields[0][0] if fields else "login", raw, "a.txt"))
        return multipart(parts), f"multipart/form-data; boundary={BOUNDARY}"
    if shape == "no-boundary":
        return multipart([(name, value, None) for name, value in pairs]), "multipart/form-data"
    if shape == "odd-type":
        return raw, odd_type
    return raw, "application/x-www-form-urlencoded"


@FUZZ
@given(shape=_SHAPES, fields=st.lists(st.tuples(st.sampled_from(FIELD_NAMES), _VALUES), max_size=6),
       odd_type=_ODD_TYPES, raw=st.binary(max_size=300), path=st.sampled_from(FORM_PATHS))
def test_fuzzed_bodies_of_any_shape_and_encoding_never_fail_on_the_server(bc, shape, fields, odd_type, raw,
                                                                          path):
    token = token_of(bc)
    body, content_type = _body(shape, token, fields, odd_type, raw)
    url, headers = path
    response = bc.post(url, data=body, headers={**headers, "Content-Type": content_type})
    assert response.status_code < 500, (shape, content_type, body[:200])
    assert "Traceback" not in text(response)
    if shape == "multipart-file":
        assert response.status_code == 400
