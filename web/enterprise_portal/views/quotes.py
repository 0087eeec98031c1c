"""Quotes, as a billing contact sees them: the list by status, a quote's page (every sent
version, the thread, accept with a PO, decline with a reason, comment or request changes)
and a version's PDF. Drafts and other accounts' quotes answer 404 (enterprise_portal looks
them up within the principal's account, S13)."""
from __future__ import annotations

import re
from typing import Any

import grpc
from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from billing_common.grpc_client import error_field
from web.common.errors import FormPage, answers_failed_calls, not_found
from web.common.i18n import html_lang
from web.enterprise_portal import quote_forms as forms
from web.enterprise_portal.access import account_id, enterprise_contact
from web.enterprise_portal.backend import enterprise_portal

bp = Blueprint("quotes", __name__, url_prefix="/quotes")

NUMBER = re.compile(r"QT-\d{4,9}")
STATUSES = ("open", "accepted", "declined", "expired", "superseded")


def NO_LONGER_OPEN() -> str:  # noqa: N802 - reads as the message it is
    return _("This version can no longer be accepted or declined: it expired, or a newer version replaced it.")


def pdf_response(label: str, pdf: bytes) -> ResponseReturnValue:
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    name = label if re.fullmatch(r"QT-\d{4,9}-\d{1,6}", label) else "quote"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


# The contact's quotes list pages by keyset, newest first, 20 a page as the invoice list
# (README, "Performance").
QUOTE_PAGE_SIZE = 20


@bp.route("")
@answers_failed_calls
@enterprise_contact
def list_quotes() -> ResponseReturnValue:
    status = request.args.get("status", "")
    if status and status not in STATUSES:
        return not_found()
    after = request.args.get("page", "")
    if len(after) > 16:
        return not_found()
    quotes, next_page = enterprise_portal().quote_page(account_id(), rep=False, status=status,
                                                       size=QUOTE_PAGE_SIZE, after=after)
    return render_template("quotes.html", quotes=quotes, status=status, statuses=STATUSES, next_page=next_page,
                           paged=bool(after))


def _page(number: str, form: Any = None, which: str = "") -> FormPage:
    """The quote's page, with `form` (the one posted) in its place, the others blank."""
    forms_ = {"comment_form": forms.CommentForm(formdata=None), "accept_form": forms.AcceptForm(formdata=None),
              "decline_form": forms.DeclineForm(formdata=None)}
    if form is not None:
        forms_[which] = form

    def load() -> dict[str, Any]:
        return {"quote": enterprise_portal().quote(account_id(), number, rep=False), "rep": False,
                "new_po": forms.NEW_PO, **forms_}

    return FormPage("quote.html", form if form is not None else forms_["comment_form"], load_context=load)


@bp.route("/<number>")
@answers_failed_calls
@enterprise_contact
def quote_page(number: str) -> ResponseReturnValue:
    if not NUMBER.fullmatch(number):
        return not_found()
    return _page(number).render()


@bp.route("/<number>/<int:version>.pdf")
@answers_failed_calls
@enterprise_contact
def quote_pdf(number: str, version: int) -> ResponseReturnValue:
    if not NUMBER.fullmatch(number) or not 1 <= version <= 999_999:
        return not_found()
    label, pdf = enterprise_portal().quote_pdf(account_id(), number, version, rep=False,
                                               buyer_name=g.principal.account.name or account_id(),
                                               language=html_lang())
    return pdf_response(label, pdf)


def _version(form: Any) -> int:
    try:
        version = int(form.version.data)
    except (TypeError, ValueError):
        abort(400)
    if not 1 <= version <= 999_999:
        abort(400)
    return version


@bp.route("/<number>/comment", methods=["POST"])
@answers_failed_calls
@enterprise_contact
def comment(number: str) -> ResponseReturnValue:
    if not NUMBER.fullmatch(number):
        return not_found()
    form = forms.CommentForm()
    page = _page(number, form, "comment_form")
    if not form.validate():
        return page.render(400)
    try:
        enterprise_portal().comment_on_quote(account_id(), number, rep=False, author_name=g.principal.name,
                                             body=form.body.data, change_request=bool(form.change_request.data))
    except grpc.RpcError as error:
        return page.failed(error)
    flash(_("Your change request was sent to your representative.") if form.change_request.data
          else _("Your comment was sent to your representative."), "info")
    return redirect(url_for(".quote_page", number=number))


@bp.route("/<number>/accept", methods=["POST"])
@answers_failed_calls
@enterprise_contact
def accept(number: str) -> ResponseReturnValue:
    if not NUMBER.fullmatch(number):
        return not_found()
    form = forms.AcceptForm()
    page = _page(number, form, "accept_form")
    if not form.validate():
        return page.render(400)
    po_number, new_po = form.po()
    try:
        invoices = enterprise_portal().accept_quote(
            account_id(), number, _version(form), po_number=po_number, new_po=new_po, by_name=g.principal.name)
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.FAILED_PRECONDITION:  # type: ignore[attr-defined]
            return page.fail(None, NO_LONGER_OPEN(), 409)
        if error.code() == grpc.StatusCode.ALREADY_EXISTS and error_field(error) == "po_number":  # type: ignore[attr-defined]
            return page.fail("new_po_number", _("%(number)s is already one of your purchase orders: choose it in "
                                                "the list instead.", number=po_number), 400)
        if error.code() == grpc.StatusCode.INVALID_ARGUMENT and error_field(error) == "po_number":  # type: ignore[attr-defined]
            name = "new_po_number" if new_po else "po_choice"
            return page.fail(name, _("%(field)s is not valid. Check it and try again.",
                                     field=form[name].label.text), 400)
        return page.failed(error)
    if invoices:
        flash(_("You accepted the quote. Invoice %(numbers)s was issued.", numbers=", ".join(invoices)), "info")
    else:
        flash(_("You accepted the quote."), "info")
    return redirect(url_for(".quote_page", number=number))


@bp.route("/<number>/decline", methods=["POST"])
@answers_failed_calls
@enterprise_contact
def decline(number: str) -> ResponseReturnValue:
    if not NUMBER.fullmatch(number):
        return not_found()
    form = forms.DeclineForm()
    page = _page(number, form, "decline_form")
    if not form.validate():
        return page.render(400)
    try:
        enterprise_portal().decline_quote(account_id(), number, _version(form), reason=form.reason.data,
                                          by_name=g.principal.name)
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.FAILED_PRECONDITION:  # type: ignore[attr-defined]
            return page.fail(None, NO_LONGER_OPEN(), 409)
        return page.failed(error)
    flash(_("You declined the quote. Your representative was told why."), "info")
    return redirect(url_for(".quote_page", number=number))
