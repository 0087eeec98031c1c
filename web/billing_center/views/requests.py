"""Members' change requests: a member of an online account asks (from their landing page) or
withdraws; a billing contact sees them (the Requests page), reviews one with a fresh preview of
exactly what it does now, and approves it (applied and charged as their own change, once: the
review page carries an idempotency key, S19) or declines it with a reason.

S14: asking and withdrawing are a member's (online_member), approving and declining a billing
contact's (billing_contact); anyone else gets the 403 page. S13: the account id sent is the
principal's, so another account's request id answers 404. S16: every form carries the CSRF token.
"""
from __future__ import annotations

import grpc
import structlog
from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.billing_center import forms
from web.billing_center.access import account_id, billing_contact, online_member
from web.billing_center.backend import Asker, ChangeRequestView, PreviewView, online_billing
from web.billing_center.charges import change_refusal, flash_change_pending
from web.billing_center.views import member
from web.common.errors import FormPage, answers_failed_calls, not_found

bp = Blueprint("requests", __name__, url_prefix="/requests")
log = structlog.get_logger()

# Request ids are online_billing's UUIDs; anything else is not worth a call.
_ID = forms.UUID_TEXT  # a change request id is a UUID; anything else is 404 before any call (S18)


# --- the member's side -------------------------------------------------------------------------


@bp.route("", methods=["POST"])
@answers_failed_calls
@online_member
def ask() -> ResponseReturnValue:
    form = forms.RequestChangeForm()
    page = member.page(request_form=form)
    if not form.validate():
        return page.render(400)
    p = g.principal
    try:
        online_billing().request_change(account_id(), Asker(p.user_id, p.name, p.email, p.locale),
                                        form.plan_code.data, int(form.seats.data), form.interval_value,
                                        form.note.data or "")
    except grpc.RpcError as error:
        return page.failed(error)
    flash(_("Your request was sent to your billing contacts. You will get an email when they decide."), "info")
    return redirect(url_for("home.landing"))


@bp.route("/<change_request_id>/withdraw", methods=["POST"])
@answers_failed_calls
@online_member
def withdraw(change_request_id: str) -> ResponseReturnValue:
    if not _ID.fullmatch(change_request_id):
        return not_found()
    form = forms.ActionForm()
    page = member.page()
    if not form.validate():
        return page.fail(None, forms.first_error(form), 400)
    try:
        online_billing().withdraw_change_request(account_id(), change_request_id, g.principal.user_id)
    except grpc.RpcError as error:
        return page.failed(error)
    flash(_("Your request was withdrawn."), "info")
    return redirect(url_for("home.landing"))


# --- the billing contact's side ----------------------------------------------------------------


@bp.route("")
@answers_failed_calls
@billing_contact
def list_requests() -> ResponseReturnValue:
    found = online_billing().change_requests(account_id())
    return render_template("requests.html", pending=[r for r in found if r.is_pending],
                           decided=[r for r in found if not r.is_pending])


def _review(change_request_id: str, form: forms.ApproveRequestForm | forms.DeclineRequestForm | None = None,
            approve_form: forms.ApproveRequestForm | None = None,
            decline_form: forms.DeclineRequestForm | None = None) -> FormPage:
    """The review page of one request: what it asks, and (pending) what approving it does now,
    previewed fresh: a request made stale by another change shows why it cannot be applied."""
    approve_form = approve_form or forms.ApproveRequestForm(formdata=None, idempotency_key=forms.new_key())
    decline_form = decline_form or forms.DeclineRequestForm(formdata=None)

    def context() -> dict[str, object]:
        request = online_billing().change_request(account_id(), change_request_id)
        preview, problem = _fresh_preview(request) if request.is_pending else (None, "")
        return {"request": request, "preview": preview, "preview_problem": problem,
                "approve_form": approve_form, "decline_form": decline_form}

    return FormPage("request_review.html", form or approve_form, load_context=context)


def _fresh_preview(request: ChangeRequestView) -> tuple[PreviewView | None, str]:
    current = online_billing().subscription(account_id())
    if current is None:
        return None, _("This account has no subscription to change.")
    t = request.target
    try:
        return online_billing().preview_change(account_id(), current.subscription_id, t.plan_code, t.seats,
                                               t.interval), ""
    except grpc.RpcError as error:
        if error.code() not in (grpc.StatusCode.FAILED_PRECONDITION,  # type: ignore[attr-defined]
                                grpc.StatusCode.INVALID_ARGUMENT):
            raise
        return None, _(error.details() or "") or _("The change could not be made.")  # type: ignore[attr-defined]


@bp.route("/<change_request_id>")
@answers_failed_calls
@billing_contact
def review(change_request_id: str) -> ResponseReturnValue:
    if not _ID.fullmatch(change_request_id):
        return not_found()
    return _review(change_request_id).render()


@bp.route("/<change_request_id>/approve", methods=["POST"])
@answers_failed_calls
@billing_contact
def approve(change_request_id: str) -> ResponseReturnValue:
    if not _ID.fullmatch(change_request_id):
        return not_found()
    form = forms.ApproveRequestForm()
    if not form.validate():  # only a tampered or truncated post: the field is hidden
        return _review(change_request_id).fail(None, forms.first_error(form), 400)
    try:
        result = online_billing().approve_change_request(account_id(), change_request_id, g.principal.user_id,
                                                            form.idempotency_key.data)[1]
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.FAILED_PRECONDITION:  # type: ignore[attr-defined]
            return _review(change_request_id).failed(error)
        # A decline (or a rule the preview could not foresee): nothing changed; the review again
        # with the message and a new key, so a second try is a new attempt.
        message, status = change_refusal(error, "change request approval refused")
        return _review(change_request_id).fail(None, message, status)
    if result.payment_pending:
        flash_change_pending()
        return redirect(url_for(".list_requests"))
    if result.applied and result.invoice is not None:
        flash(_("The request was approved and the change made. Invoice %(number)s was paid with your card.",
                number=result.invoice.number), "info")
        return redirect(url_for("invoices.invoice_page", invoice_id=result.invoice.invoice_id))
    flash(_("The request was approved. The change is scheduled for the end of the current period."), "info")
    return redirect(url_for(".list_requests"))


@bp.route("/<change_request_id>/decline", methods=["POST"])
@answers_failed_calls
@billing_contact
def decline(change_request_id: str) -> ResponseReturnValue:
    if not _ID.fullmatch(change_request_id):
        return not_found()
    form = forms.DeclineRequestForm()
    page = _review(change_request_id, form, decline_form=form)
    if not form.validate():
        return page.render(400)
    try:
        online_billing().decline_change_request(account_id(), change_request_id, g.principal.user_id,
                                                form.reason.data or "")
    except grpc.RpcError as error:
        return page.failed(error)
    flash(_("The request was declined. The member was told your reason."), "info")
    return redirect(url_for(".list_requests"))
