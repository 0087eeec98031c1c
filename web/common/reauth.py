"""Confirm your password (S17), for both doors: a sign-in older than 15 minutes is renewed by
signing in again with the password (identity.Authenticate) before a sensitive change (cards in
the Billing Center, billing contacts in the Enterprise portal). The new session replaces the
old one (signed out at identity), then the person continues where they were going (a path of
this site only). Each door's view decides who may use it and calls `confirm_password`."""
from __future__ import annotations

import grpc
from flask import g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.common.errors import FormPage
from web.common.forms import ReauthForm
from web.common.runtime import identity
from web.common.security import (
    client_address,
    device_token,
    end_previous_session,
    set_device_cookie,
    set_session_cookie,
)


def safe_next(value: str | None, default: str) -> str:
    """Only a path of this site ("/..." but not "//host" or "/\\host"), else `default`."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\")) and len(value) <= 2048:
        return value
    return default


def reauth_redirect(next_url: str) -> ResponseReturnValue:
    """To this door's Confirm your password page (blueprint "reauth"), then back to `next_url`."""
    return redirect(url_for("reauth.reauth_page", next=next_url))


def confirm_password(template: str, default_next: str) -> ResponseReturnValue:
    """The page (GET) and its answer (POST): the password of the signed-in person opens a new
    session and goes on to `next`; a wrong one is said on the field."""
    if request.method == "GET":
        form = ReauthForm(formdata=None, next=safe_next(request.args.get("next"), default_next))
    else:
        form = ReauthForm()
    page = FormPage(template, form, unauthenticated=("password", _("The password is not correct.")))
    if request.method == "GET":
        return page.render()
    if not form.validate():
        return page.render(400)
    try:
        answer = identity().authenticate(g.principal.login, form.password.data, client_address(), device_token())
    except grpc.RpcError as error:
        return page.failed(error)
    if answer.WhichOneof("result") != "session" or answer.principal.user_id != g.principal.user_id:
        return page.fail("password", _("The password is not correct."), 200)
    end_previous_session()  # the old session is signed out at identity, not just forgotten
    response = redirect(safe_next(form.next.data, default_next))
    set_session_cookie(response, answer.session.token)
    set_device_cookie(response, answer.device)
    return response
