"""Billing contacts of an enterprise account: the list, add, remove, make primary, propose a
handover, approve or decline one; and the rep's approve/decline from the rep console.

Thin: identity decides who may do what (S13: another account is 404; S14: members cannot
sign in here, reps only read and decide handovers) and checks the recent sign-in again (S17).
The page asks for the password first when the sign-in is older than 15 minutes, so the
person is not sent a form they cannot submit.
"""
from __future__ import annotations

import grpc
from flask import Blueprint, flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from billing.identity.v1 import identity_pb2
from billing_common.grpc_client import error_field
from web.common.clients import NewContact
from web.common.errors import FormPage, answers_failed_calls, error_page, forbidden, rpc_error_page
from web.common.forms import PortalForm
from web.common.reauth import ask_password, safe_next
from web.common.runtime import identity
from web.common.security import signed_in, signed_in_recently
from web.enterprise_portal import forms

bp = Blueprint("billing_contacts", __name__)


def _is_rep() -> bool:
    return bool(g.principal.role == identity_pb2.ROLE_REP)


def _page_url(account_id: str) -> str:
    return url_for(".account_contacts", account_id=account_id)


def _page(account_id: str, *, add: forms.NewPersonForm | None = None,
          handover: forms.HandoverForm | None = None, failed_form: str = "",
          choice: forms.ContactChoiceForm | None = None) -> FormPage:
    """The contacts page with its two forms; `failed_form` is the one a failure is shown on
    (a remove or make-primary button's failure goes above the list: `choice`)."""
    add = add or forms.NewPersonForm(formdata=None, prefix="add")
    handover = handover or forms.HandoverForm(formdata=None, prefix="handover")

    def load() -> dict[str, object]:
        contacts = identity().list_billing_contacts(g.session_token, account_id)
        return {"contacts": contacts, "handovers": identity().list_handovers(g.session_token, account_id),
                "handover_form": handover, "is_rep": _is_rep(), "account_id": account_id,
                "me": g.principal.user_id, "failed_form": failed_form}

    shown: PortalForm = choice or (handover if failed_form == "handover" else add)
    return FormPage("contacts.html", shown,
                    context={"add_form": add}, load_context=load)


def _failed(page: FormPage, error: grpc.RpcError, account_id: str) -> ResponseReturnValue:
    """identity's S17 check (the sign-in aged between the page and the post) asks for the
    password; anything else is the usual mapping, on the form."""
    if error.code() == grpc.StatusCode.FAILED_PRECONDITION and error_field(error) == "session_token":  # type: ignore[attr-defined]
        return ask_password(_page_url(account_id))
    return page.failed(error)


@bp.route("/contacts")
@answers_failed_calls
@signed_in
def contacts_page() -> ResponseReturnValue:
    """A billing contact's own account; a rep picks an account on the home page."""
    if _is_rep() or not g.principal.account.account_id:
        return redirect(url_for("home.landing"))
    return redirect(_page_url(g.principal.account.account_id))


@bp.route("/accounts/<account_id>/contacts")
@answers_failed_calls
@signed_in
def account_contacts(account_id: str) -> ResponseReturnValue:
    return _page(account_id).render()


@bp.route("/accounts/<account_id>/contacts/add", methods=["POST"])
@answers_failed_calls
@signed_in
def add_contact(account_id: str) -> ResponseReturnValue:
    if _is_rep():
        return forbidden()
    if not signed_in_recently():
        return ask_password(_page_url(account_id))
    form = forms.NewPersonForm(prefix="add")
    page = _page(account_id, add=form, failed_form="add")
    if not form.validate():
        return page.render(400)
    person = NewContact(login=form.user_id(), email=form.email.data, name=form.name.data, locale=form.locale.data)
    try:
        identity().add_billing_contact(g.session_token, account_id, person)
    except grpc.RpcError as error:
        return _failed(page, error, account_id)
    flash(_("%(name)s is now a billing contact. We mailed them a link to create their password.",
            name=form.name.data), "info")
    return redirect(_page_url(account_id))


def _choice_change(account_id: str, change: str) -> ResponseReturnValue:
    if _is_rep():
        return forbidden()
    if not signed_in_recently():
        return ask_password(_page_url(account_id))
    form = forms.ContactChoiceForm()
    page = _page(account_id, choice=form)
    if not form.validate():
        return page.fail(None, _("Choose a billing contact."), 400)
    try:
        if change == "remove":
            identity().remove_billing_contact(g.session_token, account_id, form.user_id.data)
        else:
            identity().set_primary_billing_contact(g.session_token, account_id, form.user_id.data)
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND and error_field(error) == "user_id":  # type: ignore[attr-defined]
            return page.fail(None, _("This person is not a billing contact of the account."), 404)
        return _failed(page, error, account_id)
    flash(_("The billing contact was removed.") if change == "remove"
          else _("The primary billing contact was changed."), "info")
    if change == "remove" and form.user_id.data == g.principal.user_id:
        return redirect(url_for("auth.sign_in"))  # they removed themselves: their session ended
    return redirect(_page_url(account_id))


@bp.route("/accounts/<account_id>/contacts/remove", methods=["POST"])
@answers_failed_calls
@signed_in
def remove_contact(account_id: str) -> ResponseReturnValue:
    return _choice_change(account_id, "remove")


@bp.route("/accounts/<account_id>/contacts/primary", methods=["POST"])
@answers_failed_calls
@signed_in
def make_primary(account_id: str) -> ResponseReturnValue:
    return _choice_change(account_id, "primary")


@bp.route("/accounts/<account_id>/handovers", methods=["POST"])
@answers_failed_calls
@signed_in
def propose_handover(account_id: str) -> ResponseReturnValue:
    if _is_rep():
        return forbidden()
    if not signed_in_recently():
        return ask_password(_page_url(account_id))
    form = forms.HandoverForm(prefix="handover")
    page = _page(account_id, handover=form, failed_form="handover")
    if not form.validate():
        return page.render(400)
    person = NewContact(login=form.user_id(), email=form.email.data, name=form.name.data, locale=form.locale.data)
    try:
        identity().propose_handover(g.session_token, account_id, form.replaced_user_id.data, person)
    except grpc.RpcError as error:
        return _failed(page, error, account_id)
    flash(_("The handover was proposed. It applies once another billing contact or your representative "
            "approves it."), "info")
    return redirect(_page_url(account_id))


@bp.route("/accounts/<account_id>/handovers/<handover_id>/decide", methods=["POST"])
@answers_failed_calls
@signed_in
def decide_handover(account_id: str, handover_id: str) -> ResponseReturnValue:
    form = forms.DecisionForm()
    back = safe_next(form.next.data if isinstance(form.next.data, str) else None, _page_url(account_id))
    if not signed_in_recently():
        return ask_password(back)
    approve = form.approve() if form.validate() else None
    if approve is None:
        return error_page(400, _("Bad request"), _("Choose Approve or Decline."))
    try:
        identity().decide_handover(g.session_token, account_id, handover_id, approve)
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.FAILED_PRECONDITION and error_field(error) == "session_token":  # type: ignore[attr-defined]
            return ask_password(back)
        if error.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS):
            flash(_("This handover could not be applied: %(reason)s", reason=_(error.details() or "")),  # type: ignore[attr-defined]
                  "error")
            return redirect(back)
        return rpc_error_page(error)
    flash(_("The handover was approved.") if approve else _("The handover was declined."), "info")
    return redirect(back)

