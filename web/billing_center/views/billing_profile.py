"""The billing profile printed on every invoice from now on: company, address, country, tax ID
(online_billing validates it: CPF/CNPJ check digits, EU VAT formats; its message is shown on the
field) and up to 5 extra invoice recipients."""
from __future__ import annotations

import grpc
from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from billing_common.grpc_client import error_field
from web.billing_center import forms
from web.billing_center.access import account_id, billing_contact
from web.billing_center.backend import BillingProfileView, online_billing
from web.common.errors import FormPage, answers_failed_calls
from web.common.i18n import current_locale

bp = Blueprint("billing_profile", __name__, url_prefix="/billing-profile")


def _form_for(profile: BillingProfileView | None) -> forms.ProfileForm:
    p = profile or BillingProfileView()
    return forms.ProfileForm(formdata=None, company_name=p.company_name, address_line1=p.address_line1,
                             address_line2=p.address_line2, city=p.city, region=p.region,
                             postal_code=p.postal_code, country=p.country, tax_id=p.tax_id,
                             invoice_emails="\n".join(p.invoice_emails))


@bp.route("", methods=["GET", "POST"])
@answers_failed_calls
@billing_contact
def profile_page() -> ResponseReturnValue:
    if request.method == "GET":
        return FormPage("billing_profile.html", _form_for(online_billing().billing_profile(account_id()))).render()
    form = forms.ProfileForm()
    page = FormPage("billing_profile.html", form)
    if not form.validate():
        return page.render(400)
    profile = BillingProfileView(
        company_name=form.company_name.data, address_line1=form.address_line1.data,
        address_line2=form.address_line2.data or "", city=form.city.data, region=form.region.data or "",
        postal_code=form.postal_code.data or "", country=form.country.data.upper(), tax_id=form.tax_id.data or "",
        invoice_emails=form.emails())
    try:
        online_billing().update_billing_profile(account_id(), profile)
    except grpc.RpcError as error:
        name = error_field(error)
        if error.code() == grpc.StatusCode.INVALID_ARGUMENT and name in form._fields:  # type: ignore[attr-defined]
            return page.fail(name, _field_message(error, form[name].label.text), 400)
        return page.failed(error)
    flash(_("Your billing profile was saved. It is printed on every invoice from now on."), "info")
    return redirect(url_for(".profile_page"))


def _field_message(error: grpc.RpcError, label: str) -> str:
    """online_billing's message names the field as its proto does ("tax_id is not a valid CPF:
    ..."): in English it is shown as is; without a translation, a pt-BR reader gets the field's
    label and that it is not valid."""
    details = error.details() or ""  # type: ignore[attr-defined]
    translated = _(details) if details else ""
    if translated and (translated != details or current_locale() == "en"):
        return translated
    return _("%(field)s is not valid. Check it and try again.", field=label)
