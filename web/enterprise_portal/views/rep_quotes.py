"""The rep console's quotes of one account: the list (drafts included), the draft editor (plan
lines from enterprise's price list, custom lines, quantity, unit price, discount, validity,
terms), sending, revising with a new version, the thread, and each version's PDF.

Every route checks with identity that the rep serves the account (ListRepAccounts, S14); any
other account id answers 404 (S13)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.common.errors import FormPage, answers_failed_calls, not_found
from web.common.i18n import html_lang
from web.enterprise_portal import quote_forms as forms
from web.enterprise_portal.access import rep_of_account
from web.enterprise_portal.backend import enterprise_portal
from web.enterprise_portal.quotes_backend import QuotePlanView, QuoteView
from web.enterprise_portal.views.quotes import NUMBER, pdf_response

bp = Blueprint("rep_quotes", __name__, url_prefix="/accounts/<account_id>/quotes")


@bp.route("")
@answers_failed_calls
@rep_of_account
def list_quotes(account_id: str) -> ResponseReturnValue:
    quotes = enterprise_portal().quotes(account_id, rep=True)
    return render_template("rep_quotes.html", account=g.rep_account, quotes=quotes)


@bp.route("/<number>")
@answers_failed_calls
@rep_of_account
def quote_page(account_id: str, number: str) -> ResponseReturnValue:
    if not NUMBER.fullmatch(number):
        return not_found()
    return _page(account_id, number).render()


def _page(account_id: str, number: str, form: Any = None) -> FormPage:
    comment_form = form if form is not None else forms.CommentForm(formdata=None)

    def load() -> dict[str, Any]:
        return {"quote": enterprise_portal().quote(account_id, number, rep=True), "rep": True,
                "account": g.rep_account, "comment_form": comment_form, "send_form": forms.SendForm(formdata=None)}

    return FormPage("quote.html", comment_form, load_context=load)


@bp.route("/<number>/<int:version>.pdf")
@answers_failed_calls
@rep_of_account
def quote_pdf(account_id: str, number: str, version: int) -> ResponseReturnValue:
    if not NUMBER.fullmatch(number) or not 1 <= version <= 999_999:
        return not_found()
    label, pdf = enterprise_portal().quote_pdf(account_id, number, version, rep=True,
                                               buyer_name=g.rep_account.name or account_id, language=html_lang())
    return pdf_response(label, pdf)


@bp.route("/<number>/comment", methods=["POST"])
@answers_failed_calls
@rep_of_account
def comment(account_id: str, number: str) -> ResponseReturnValue:
    if not NUMBER.fullmatch(number):
        return not_found()
    form = forms.CommentForm()
    page = _page(account_id, number, form)
    if not form.validate():
        return page.render(400)
    try:
        enterprise_portal().comment_on_quote(account_id, number, rep=True, author_name=g.principal.name,
                                             body=form.body.data, change_request=False)
    except grpc.RpcError as error:
        return page.failed(error)
    flash(_("Your comment was sent to the account's billing contacts."), "info")
    return redirect(url_for(".quote_page", account_id=account_id, number=number))


@bp.route("/<number>/send", methods=["POST"])
@answers_failed_calls
@rep_of_account
def send(account_id: str, number: str) -> ResponseReturnValue:
    if not NUMBER.fullmatch(number):
        return not_found()
    form = forms.SendForm()
    if not form.validate():
        return _page(account_id, number).render(400)
    try:
        quote = enterprise_portal().send_quote(account_id, number)
    except grpc.RpcError as error:
        return _page(account_id, number, forms.CommentForm(formdata=None)).failed(error)
    flash(_("Quote %(label)s was sent to the account's billing contacts.", label=quote.latest.label), "info")
    return redirect(url_for(".quote_page", account_id=account_id, number=number))


# --- The draft editor -----------------------------------------------------------------------------


def _plans(currency: str) -> list[QuotePlanView] | None:
    """The price list in `currency`; None when enterprise_portal does not know the currency."""
    try:
        return enterprise_portal().quote_plans(currency)
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.INVALID_ARGUMENT:  # type: ignore[attr-defined]
            return None
        raise


def _editor(account_id: str, number: str, form: forms.DraftForm, rows: list[forms.Row], currency: str,
            quote: QuoteView | None, plans: list[QuotePlanView] | None = None) -> FormPage:
    plans = plans if plans is not None else (_plans(currency) or [])
    rows = rows + [forms.Row() for _ in range(forms.BLANK_ROWS)]
    return FormPage("quote_editor.html", form, context={
        "account": g.rep_account, "number": number, "rows": rows, "plans": plans, "terms": forms.TERMS,
        "currency": currency, "quote": quote})


@bp.route("/new", methods=["GET", "POST"], defaults={"number": ""})
@bp.route("/<number>/edit", methods=["GET", "POST"])
@answers_failed_calls
@rep_of_account
def edit(account_id: str, number: str) -> ResponseReturnValue:
    """A new quote (no number), its draft edited, or a new version drafted from the newest one."""
    if number and not NUMBER.fullmatch(number):
        return not_found()
    quote = enterprise_portal().quote(account_id, number, rep=True) if number else None
    currency = quote.currency if quote else (g.rep_account.currency or "USD")
    if request.method == "GET":
        if quote is not None:
            latest = quote.latest
            form = forms.DraftForm(formdata=None, currency=currency, terms=latest.terms,
                                   valid_until=(latest.valid_until or dt.date.today()).isoformat())
            return _editor(account_id, number, form, forms.rows_of(latest.lines), currency, quote).render()
        form = forms.DraftForm(formdata=None, currency=currency, terms="NET 30",
                               valid_until=(dt.date.today() + dt.timedelta(days=30)).isoformat())
        return _editor(account_id, number, form, [], currency, None).render()
    form = forms.DraftForm()
    if not quote and form.currency.data:
        currency = form.currency.data.upper()
    rows = [r for r in forms.read_rows(request.form) if not r.blank]
    plans = _plans(currency)
    page = _editor(account_id, number, form, rows, currency, quote, plans or [])
    if not form.validate():
        return page.render(400)
    if plans is None:
        return page.fail("currency", _("Enter a currency code such as USD."), 400)
    try:
        lines = forms.parse_lines(rows, plans, currency)
    except forms.LineError as error:
        return page.fail(None, str(error), 400)
    try:
        saved = enterprise_portal().draft_quote(
            account_id, number=number, rep_user_id=g.principal.user_id, rep_email=g.principal.email,
            rep_name=g.principal.name, currency=currency, lines=lines,
            valid_until=dt.date.fromisoformat(form.valid_until.data), terms=form.terms.data)
    except grpc.RpcError as error:
        return page.failed(error)
    flash(_("Draft %(label)s was saved. The customer sees it once you send it.", label=saved.latest.label), "info")
    return redirect(url_for(".quote_page", account_id=account_id, number=saved.number))
