"""Small helpers for driving the portals with Flask's test client (CSRF tokens, sign-in)."""
from __future__ import annotations

import html
import re
from http.cookies import SimpleCookie
from typing import Any

from flask.testing import FlaskClient

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
_HIDDEN = r'name="{name}"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="{name}"'


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def csrf_from(page: str) -> str:
    match = _CSRF.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def hidden(page: str, name: str) -> str:
    match = re.search(_HIDDEN.format(name=re.escape(name)), page)
    assert match, f"no hidden field {name}"
    return html.unescape(match.group(1) or match.group(2) or "")


def form_action(page: str, form_id: str) -> str:
    match = re.search(rf'<form[^>]*action="([^"]+)"[^>]*id="{form_id}"', page) or re.search(
        rf'<form[^>]*id="{form_id}"[^>]*action="([^"]+)"', page)
    assert match, f"no form {form_id}"
    return html.unescape(match.group(1))


def post_form(client: FlaskClient, page_path: str, data: dict[str, Any], *, action: str | None = None,
              **kwargs: Any) -> Any:
    """GET the page for its CSRF token, then POST the form with it."""
    token = csrf_from(client.get(page_path, **kwargs).get_data(as_text=True))
    return client.post(action or page_path, data={"csrf_token": token, **data}, **kwargs)


def sign_in(client: FlaskClient, login: str, password: str, **kwargs: Any) -> Any:
    return post_form(client, "/sign-in", {"login": login, "password": password}, **kwargs)


def set_cookies(response: Any) -> dict[str, dict[str, str | bool]]:
    """Every Set-Cookie of a response, parsed: {name: {"value":..., "httponly": True, ...}}."""
    parsed: dict[str, dict[str, str | bool]] = {}
    for header in response.headers.getlist("Set-Cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            attrs = {k: v for k, v in morsel.items() if v}
            flags = {part.strip().lower() for part in header.split(";")[1:]}
            attrs["httponly"] = "httponly" in flags
            attrs["secure"] = "secure" in flags
            parsed[name] = {"value": morsel.value, **attrs}
    return parsed


def field_error(page: str, field: str) -> str | None:
    """The message shown next to a field (id="<field>-error"), if any."""
    match = re.search(rf'id="{re.escape(field)}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)).strip() if match else None


def form_error(page: str) -> str | None:
    """The message shown above the form (id="form-error"), if any."""
    match = re.search(r'id="form-error">(.*?)</div>', page, re.S)
    return re.sub(r"<[^>]+>", " ", html.unescape(match.group(1))).strip() if match else None
