"""The pages both portals share. Each view: form -> one identity call -> page (thin entrypoints).

Failures of the call are not handled here but in billing_common.web.errors (one handler).
"""
from __future__ import annotations

import re
from typing import Any

import grpc
from flask import (Blueprint, abort, flash, g, redirect, render_template, request, session,
                   url_for)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from billing.identity.v1 import identity_pb2
from billing_common.grpc_client import error_field
from billing_common.web import forms
from billing_common.web.errors import error_page, form_page
from billing_common.web.i18n import LANG_COOKIE, LOCALES
from billing_common.web.portals import PORTALS
from billing_common.web.security import (TOKEN_SHAPE, came_from, drop_session_cookie, end_previous_session,
                                         load_principal, no_referrer, portal, set_session_cookie,
                                         signed_in)

bp = Blueprint("portal", __name__)

ROLE_BILLING_CONTACT = identity_pb2.ROLE_BILLING_CONTACT
ROLE_MEMBER = identity_pb2.ROLE_MEMBER
ROLE_REP = identity_pb2.ROLE_REP
_SAFE_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9/_\-.~%?=&]*")


def client_address() -> str:
    return request.remote_addr or ""


def safe_local_path(value: str | None) -> str:
    """Only a path on this site: never //host, /\\host or a scheme (open redirect)."""
    if value and len(value) <= 2048 and _SAFE_PATH.fullmatch(value):
        return value
    return url_for("portal.landing")


# --- sign-in, hand-off, sign-out ------------------------------------------------------------

@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    if request.method == "GET" and load_principal() is not None:
        return redirect(url_for("portal.landing"))
    form = forms.SignInForm()
    page = form_page("sign_in.html", form)
    # Every refusal by identity reads the same, whatever the cause (S3).
    page.unauthenticated = (None, _("Invalid user ID/password"))
    if request.method == "GET":
        return page.render()
    if not form.validate():
        return page.render(400)
    answer = portal().identity.authenticate(form.login.data, form.password.data, client_address())
    result = answer.WhichOneof("result")
    if result == "session":
        end_previous_session()
        # A fresh CSRF secret for the signed-in session (no fixation across sign-in).
        session.clear()
        response = redirect(url_for("portal.landing"))
        set_session_cookie(response, answer.session.token)
        return response
    if result == "handoff_ticket" and answer.home_portal in PORTALS and answer.home_portal != portal().portal:
        target = PORTALS[answer.home_portal]
        # The other portal's /handoff checks where the post came from: this page must send its
        # origin (the default same-origin policy makes a browser send "Origin: null" there).
        g.referrer_policy = "strict-origin"
        return render_template("handoff.html", target=target,
                               action=getattr(portal().settings, target.url_setting) + "/handoff",
                               ticket=answer.handoff_ticket)
    return page.fail(None, _("Invalid user ID/password"), 200)


@bp.route("/handoff", methods=["POST"])
def handoff() -> ResponseReturnValue:
    """Redeems the single-use ticket the other portal handed over; the ticket is the secret.

    The ticket alone is not enough: anyone can get a ticket for their own user ID and post it
    from their own site, signing a victim's browser in as themselves (login CSRF). So the post
    must come from a page of the other portal (its Origin, or Referer when there is none).
    """
    if not came_from(portal().url_of(portal().other)):
        return error_page(403, _("Not allowed"),
                          _("This sign-in did not come from the %(portal)s. Please sign in here.",
                            portal=portal().other.name))
    form = forms.HandoffForm()
    if not form.validate() or not TOKEN_SHAPE.fullmatch(form.ticket.data):
        flash(_("This sign-in link has expired. Please sign in again."), "error")
        return redirect(url_for("portal.sign_in"))
    page = form_page("sign_in.html", forms.SignInForm(formdata=None))
    page.on_error = _handoff_refused
    answer = portal().identity.redeem_handoff_ticket(form.ticket.data, client_address())
    end_previous_session()
    session.clear()
    response = redirect(url_for("portal.landing"))
    set_session_cookie(response, answer.session.token)
    return response


def _handoff_refused(error: Any) -> ResponseReturnValue | None:
    """An unknown, used or foreign ticket: back to the sign-in page (identity down: 503)."""
    if error.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.NOT_FOUND,
                        grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION):
        flash(_("This sign-in link has expired. Please sign in again."), "error")
        return redirect(url_for("portal.sign_in"))
    return None


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> ResponseReturnValue:
    token = request.cookies.get(portal().session_cookie)
    if token and TOKEN_SHAPE.fullmatch(token):
        portal().identity.sign_out(token)
    session.clear()
    flash(_("You have been signed out."), "info")
    response = redirect(url_for("portal.sign_in"))
    drop_session_cookie(response)
    return response


# --- Reset/Create your password (S6-S8) -----------------------------------------------------

@bp.route("/reset", methods=["GET", "POST"])
def reset_request() -> ResponseReturnValue:
    no_referrer()
    form = forms.ResetRequestForm()
    page = form_page("reset_request.html", form)
    if request.method == "GET":
        return page.render()
    if not form.validate():
        return page.render(400)
    portal().identity.request_password_reset(form.login.data, client_address())
    # The same answer whether or not the user ID exists (S7).
    return render_template("reset_sent.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    no_referrer()
    if not TOKEN_SHAPE.fullmatch(token):
        return render_template("reset_invalid.html"), 404
    form = forms.ResetForm()
    page = form_page("reset_form.html", form, token=token)
    page.on_error = _reset_link_refused
    if request.method == "GET":
        if not portal().identity.reset_token_is_valid(token):
            return render_template("reset_invalid.html"), 404
        return page.render()
    if not form.validate():
        return page.render(400)
    portal().identity.complete_password_reset(token, form.new_password.data)
    # Setting the password does not sign in (S8): the person signs in with it.
    return render_template("reset_done.html")


def _reset_link_refused(error: Any) -> ResponseReturnValue | None:
    """A link used, expired or replaced between opening the page and posting it."""
    code = error.code()
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.NOT_FOUND,
                grpc.StatusCode.FAILED_PRECONDITION) or (
            code == grpc.StatusCode.INVALID_ARGUMENT and error_field(error) == "token"):
        return render_template("reset_invalid.html"), 404
    return None


# --- signed-in pages --------------------------------------------------------------------------

@bp.route("/")
@signed_in
def landing() -> ResponseReturnValue:
    principal = g.principal
    if principal.role == ROLE_REP:
        accounts = portal().identity.list_rep_accounts(g.session_token)
        return render_template("landing_rep.html", accounts=accounts)
    if principal.role == ROLE_BILLING_CONTACT:
        template, context = portal().spec.contact_landing(portal().backend_channel.get(), principal)
        return render_template(template, **context)
    account = portal().identity.get_account(principal.account.account_id)
    form = forms.ContactAdministratorForm()
    return render_template("landing_member.html", account=account, form=form)


@bp.route("/contact-billing-admin", methods=["POST"])
@signed_in
def contact_billing_admin() -> ResponseReturnValue:
    if g.principal.role != ROLE_MEMBER:
        abort(403)
    form = forms.ContactAdministratorForm()
    account_id = g.principal.account.account_id
    page = form_page("landing_member.html", form)
    # The page shows the account's billing contacts, but only a refused form is shown again:
    # a sent message just redirects, so identity is asked for the account only then.
    page.load_context = lambda: {"account": portal().identity.get_account(account_id)}
    if not form.validate():
        return page.render(400)
    portal().identity.contact_billing_administrator(g.session_token, form.note.data or "")
    flash(_("Your message was sent to your billing administrator."), "info")
    return redirect(url_for("portal.landing"))


@bp.route("/billing-contacts")
@signed_in
def billing_contacts() -> ResponseReturnValue:
    account = None
    if g.principal.account.account_id:
        account = portal().identity.get_account(g.principal.account.account_id)
    return render_template("billing_contacts.html", account=account)


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password() -> ResponseReturnValue:
    form = forms.ChangePasswordForm()
    page = form_page("change_password.html", form)
    page.unauthenticated = ("current_password", _("The current password is not correct."))
    if request.method == "GET":
        return page.render()
    if not form.validate():
        return page.render(400)
    portal().identity.change_password(g.session_token, form.current_password.data, form.new_password.data)
    flash(_("Your password has been changed."), "info")
    return redirect(url_for("portal.landing"))


# --- help and Customer Care -----------------------------------------------------------------

@bp.route("/help")
def help_page() -> ResponseReturnValue:
    load_principal()
    return render_template("help.html")


@bp.route("/help/contact", methods=["GET", "POST"])
def customer_care() -> ResponseReturnValue:
    principal = load_principal()
    form = forms.CustomerCareForm()
    if request.method == "GET" and principal is not None:
        form.name.data = form.name.data or principal.name
        form.email.data = form.email.data or principal.email
    page = form_page("contact.html", form)
    if request.method == "GET":
        return page.render()
    if not form.validate():
        return page.render(400)
    portal().identity.contact_customer_care(
        name=form.name.data, email=form.email.data, subject=form.subject.data,
        message=form.message.data, client_address=client_address())
    return render_template("contact_sent.html")


# --- language -----------------------------------------------------------------------------------

@bp.route("/language", methods=["POST"])
def language() -> ResponseReturnValue:
    form = forms.LanguageForm()
    if not form.validate() or form.lang.data not in LOCALES:
        abort(400)
    response = redirect(safe_local_path(form.next.data))
    response.set_cookie(LANG_COOKIE, form.lang.data, max_age=365 * 24 * 3600, path="/",
                        secure=bool(portal().settings.cookie_secure), httponly=True, samesite="Lax")
    return response


# --- operations ---------------------------------------------------------------------------------

@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness: the process answers. No dependency is asked."""
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/readyz")
def readyz() -> ResponseReturnValue:
    """Readiness: identity and this portal's backend both report SERVING (grpc.health.v1)."""
    state = portal().readiness()
    body = "".join(f"{name}: {'SERVING' if ok else 'NOT_SERVING'}\n" for name, ok in state.items())
    status = 200 if all(state.values()) else 503
    return body, status, {"Content-Type": "text/plain; charset=utf-8"}
