"""Confirm your password (S17), for both portals: before a sensitive change (a card added or
removed, a payment, a contact changed) a sign-in older than 15 minutes is renewed by signing in
again with the password (identity.Authenticate). The new session replaces the old one (signed
out at identity), then the person continues where they were going (a path of this site only).

Each portal registers `reauth_blueprint(guard, default_endpoint, reason)` with its own access
check and the sentence that says why its page asks.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from flask import Blueprint, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField

from billing_common.limits import MAX_PASSWORD
from web.common.errors import FormPage, answers_failed_calls
from web.common.forms import CleanText, Length, Optional, PortalForm, text
from web.common.runtime import identity
from web.common.security import (
    client_address,
    device_token,
    end_previous_session,
    load_principal,
    set_device_cookie,
    set_session_cookie,
)

# S17: a sensitive change needs a sign-in within this long.
RECENT_SIGN_IN = timedelta(minutes=15)


def signed_in_recently(now: datetime | None = None) -> bool:
    """Whether this session's sign-in (identity's authenticated_at) is within RECENT_SIGN_IN."""
    load_principal()
    session = g.get("identity_session")
    if session is None or not session.HasField("authenticated_at"):
        return False
    at = session.authenticated_at.ToDatetime(tzinfo=UTC)
    return (now or datetime.now(UTC)) - at <= RECENT_SIGN_IN


def ask_password(next_url: str) -> ResponseReturnValue:
    """Send the person to confirm their password, then back to `next_url`."""
    return redirect(url_for("reauth.reauth_page", next=next_url))


class ReauthForm(PortalForm):
    password = PasswordField(_l("Password"), text(MAX_PASSWORD))
    next = HiddenField(_l("Return address"), [Optional(), Length(2048), CleanText()])


def _safe_next(value: str | None, default_endpoint: str) -> str:
    """Only a path of this site ("/..." but not "//host" or "/\\host")."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\")) and len(value) <= 2048:
        return value
    return url_for(default_endpoint)


def reauth_blueprint(guard: Callable[[Any], Any], default_endpoint: str, reason: Any) -> Blueprint:
    """The "reauth" blueprint at /confirm-password: `guard` is the portal's access decorator,
    `default_endpoint` where to go without a (safe) next, `reason` the page's explanation."""
    bp = Blueprint("reauth", __name__)

    @bp.route("/confirm-password", methods=["GET", "POST"])
    @answers_failed_calls
    @guard
    def reauth_page() -> ResponseReturnValue:
        if request.method == "GET":
            form = ReauthForm(formdata=None, next=_safe_next(request.args.get("next"), default_endpoint))
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
        response = redirect(_safe_next(form.next.data, default_endpoint))
        set_session_cookie(response, answer.session.token)
        set_device_cookie(response, answer.device)
        return response

    return bp
