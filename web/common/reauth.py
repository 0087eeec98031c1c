"""Confirm your password (S17), for both portals: before a sensitive change (a card added or
removed, a payment, a contact changed) a sign-in older than 15 minutes is renewed by signing in
again with the password (identity.Authenticate). The new session replaces the old one (signed
out at identity), then the person continues where they were going (a path of this site only).

Each portal registers `reauth_blueprint(guard, default_endpoint, reason)` with its own access
check and the sentence that says why its page asks.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from flask import Blueprint, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.common.errors import FormPage, answers_failed_calls
from web.common.forms import ReauthForm
from web.common.runtime import identity
from web.common.security import (
    client_address,
    device_token,
    end_previous_session,
    set_device_cookie,
    set_session_cookie,
    signed_in_recently,
)

__all__ = ["ask_password", "reauth_blueprint", "safe_next", "signed_in_recently"]


def ask_password(next_url: str) -> ResponseReturnValue:
    """Send the person to confirm their password, then back to `next_url`."""
    return redirect(url_for("reauth.reauth_page", next=next_url))


def safe_next(value: str | None, default: str) -> str:
    """Only a path of this site ("/..." but not "//host" or "/\\host"), else `default`."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\")) and len(value) <= 2048:
        return value
    return default


def reauth_blueprint(guard: Callable[[Any], Any], default_endpoint: str, reason: Any) -> Blueprint:
    """The "reauth" blueprint at /confirm-password: `guard` is the portal's access decorator,
    `default_endpoint` where to go without a (safe) next, `reason` the page's explanation."""
    bp = Blueprint("reauth", __name__)

    @bp.route("/confirm-password", methods=["GET", "POST"])
    @answers_failed_calls
    @guard
    def reauth_page() -> ResponseReturnValue:
        if request.method == "GET":
            form = ReauthForm(formdata=None, next=safe_next(request.args.get("next"), url_for(default_endpoint)))
        else:
            form = ReauthForm()
        page = FormPage("reauth.html", form, {"reason": reason},
                        unauthenticated=("password", _("The password is not correct.")))
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
        response = redirect(safe_next(form.next.data, url_for(default_endpoint)))
        set_session_cookie(response, answer.session.token)
        set_device_cookie(response, answer.device)
        return response

    return bp
