"""The Enterprise portal's own forms (the shared ones are in web.common.forms and cards).

Every field is text checked here with a message naming the field (a 400, never a 500); what
only enterprise_portal or identity knows (a balance, a PO's remaining amount, a user ID already
taken, the last contact) comes back from it naming the field and is shown there
(errors.FormPage).
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation, ValidationError

from billing_common.limits import MAX_EMAIL, MAX_ID, MAX_NAME, MAX_USER_ID
from billing_common.money import Money, minor_digits
from web.common.cards import CardForm
from web.common.forms import CleanText, Email, Length, Optional, PortalForm, PossibleUserId, Required, text

_AMOUNT = re.compile(r"\d{1,9}([.,]\d{1,2})?")
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_INVOICES = 100


def parse_amount(value: str, currency: str) -> Money | None:
    """ "1234.50" or "1234,50" in major units, or None when it is not an amount."""
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value.strip()):
        return None
    try:
        amount = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        return None
    if amount.as_tuple().exponent < -minor_digits(currency):  # type: ignore[operator]
        return None
    return Money.from_decimal(amount, currency)


class AmountText:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not _AMOUNT.fullmatch((field.data or "").strip()):
            raise StopValidation(_("%(field)s must be an amount such as 1250.00.", field=field.label.text))


class Day:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        try:
            dt.date.fromisoformat((field.data or "").strip())
        except ValueError:
            raise StopValidation(_("%(field)s must be a date as YYYY-MM-DD.", field=field.label.text)) from None


class InvoiceIds:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        ids = [i for i in (field.data or "").split(",") if i]
        if not ids or len(ids) > MAX_INVOICES or not all(_ID.fullmatch(i) for i in ids):
            raise StopValidation(_("Choose at least one invoice to pay."))


class PayForm(PortalForm):
    """Step 1: the invoices chosen and the amount; answered with the allocation to confirm."""

    invoice_ids = HiddenField(_l("Invoices"), [InvoiceIds()])
    amount = StringField(_l("Amount to pay"), [Required(), Length(16), AmountText()])

    def ids(self) -> list[str]:
        return [i for i in (self.invoice_ids.data or "").split(",") if i]


class ConfirmPayForm(CardForm):
    """Step 2: the same invoices and amount, the card, and the key that makes it one payment (S19)."""

    invoice_ids = HiddenField(_l("Invoices"), [InvoiceIds()])
    amount = HiddenField(_l("Amount to pay"), [Required(), Length(16), AmountText()])
    idempotency_key = HiddenField(_l("Payment"), [Required(), Length(64), CleanText()])

    def ids(self) -> list[str]:
        return [i for i in (self.invoice_ids.data or "").split(",") if i]


class OfflinePaymentForm(PortalForm):
    invoice_ids = HiddenField(_l("Invoices"), [InvoiceIds()])
    method = SelectField(_l("Method"), choices=[SelectChoice("bank_transfer", _l("Bank transfer")),
                                                SelectChoice("check", _l("Check")), SelectChoice("ach", _l("ACH"))])
    reference = StringField(_l("Reference"), text(100))
    amount = StringField(_l("Amount received"), [Required(), Length(16), AmountText()])
    received_on = StringField(_l("Received on (YYYY-MM-DD)"), [Optional(), Length(10), Day()])

    def ids(self) -> list[str]:
        return [i for i in (self.invoice_ids.data or "").split(",") if i]


class PurchaseOrderForm(PortalForm):
    number = StringField(_l("PO number"), text(64))
    amount = StringField(_l("Amount"), [Required(), Length(16), AmountText()])
    currency = StringField(_l("Currency"), text(3))
    valid_from = StringField(_l("Valid from (YYYY-MM-DD)"), [Required(), Length(10), Day()])
    valid_to = StringField(_l("Valid to (YYYY-MM-DD)"), [Required(), Length(10), Day()])
    notes = TextAreaField(_l("Notes"), [Optional(), Length(2000), CleanText(multiline=True)])


def first_error(form: FlaskForm) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return _("Please correct the fields marked below.")


# Billing contacts and handovers.

LOCALES = ("en", "pt-BR")


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class KnownLocale:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data not in LOCALES:
            raise ValidationError(_("Choose English or Português (Brasil)."))


class NewPersonForm(PortalForm):
    """A new billing contact: the user ID may be left empty, then the email address is it."""

    name = StringField(_l("Name"), text(MAX_NAME), filters=[_strip])
    email = StringField(_l("Email address"), [*text(MAX_EMAIL), Email()], filters=[_strip])
    login = StringField(_l("User ID (optional)"), [Optional(), Length(MAX_USER_ID), CleanText(), PossibleUserId()],
                        filters=[_strip])
    locale = StringField(_l("Language of their mails"), [*text(16), KnownLocale()], default="en")

    def user_id(self) -> str:
        return str(self.login.data or self.email.data)


class HandoverForm(NewPersonForm):
    replaced_user_id = StringField(_l("Contact to replace"), text(MAX_ID))


class ContactChoiceForm(PortalForm):
    """Remove, or make primary: which contact."""

    user_id = HiddenField(_l("Contact"), text(MAX_ID))


class DecisionForm(PortalForm):
    """Approve or decline a handover; `next` is where to go back to (a path of this site)."""

    decision = HiddenField(_l("Decision"), text(16))
    next = HiddenField(_l("Return address"), [Optional(), Length(2048), CleanText()])

    def approve(self) -> bool | None:
        return {"approve": True, "decline": False}.get(str(self.decision.data))
