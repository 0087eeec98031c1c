"""The Billing Center's own forms (the shared ones are in web.common.forms).

Every field is text checked here with messages naming the field (a 400, never a 500); what only
online_billing knows (a plan's seat range, a tax ID's check digits) comes back from it naming
the field and is shown there (errors.FormPage).
"""
from __future__ import annotations

import re
import uuid

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, HiddenField, StringField, TextAreaField
from wtforms.validators import StopValidation, ValidationError

from billing_common.limits import (
    MAX_ADDRESS_LINE,
    MAX_CITY,
    MAX_COMPANY_NAME,
    MAX_EMAIL,
    MAX_INVOICE_EMAILS,
    MAX_NOTE,
    MAX_POSTAL_CODE,
    MAX_REGION,
    MAX_TAX_ID,
    is_valid_email,
)
from billing_common.payments import messages as card_messages
from web.billing_center.backend import INTERVALS
from web.common import cards
from web.common.forms import CleanText, Length, Optional, PortalForm, Required, text

_CODE = re.compile(r"[a-z0-9_-]{1,32}")
MAX_SEATS_TYPED = 100_000


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _label(field: Field) -> str:
    return str(field.label.text)


class WholeNumber:
    def __init__(self, minimum: int, maximum: int) -> None:
        self.minimum, self.maximum = minimum, maximum

    def __call__(self, form: FlaskForm, field: Field) -> None:
        value = field.data if isinstance(field.data, str) else ""
        if not (value.isascii() and value.isdigit()) or not self.minimum <= int(value) <= self.maximum:
            raise StopValidation(_("%(field)s must be a whole number from %(min)d to %(max)d.",
                                   field=_label(field), min=self.minimum, max=self.maximum))


class OneOf:
    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data not in self.choices:
            raise StopValidation(_("Choose one of the options for %(field)s.", field=_label(field)))


class Shape:
    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not isinstance(field.data, str) or not self.pattern.fullmatch(field.data):
            raise StopValidation(_("Choose one of the options for %(field)s.", field=_label(field)))


class IdempotencyKey:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        try:
            uuid.UUID(str(field.data))
        except ValueError:
            raise StopValidation(_("This form has expired. Start again.")) from None


def first_error(form: FlaskForm) -> str:
    """The first field message of a form whose fields are hidden (a button's form): shown above
    the page, since there is no field to show it on."""
    for messages in form.errors.values():
        for message in messages:
            return str(message)
    return _("The form contains an error.")


def new_key() -> str:
    """One per confirmation the person sees (S19): a double submit of the form sends the same."""
    return str(uuid.uuid4())


class ActionForm(PortalForm):
    """A button that changes something: only the CSRF token (S16)."""


class CancelForm(PortalForm):
    note_limit = MAX_NOTE
    reason = TextAreaField(_l("Reason (optional)"), [Optional(), Length(MAX_NOTE), CleanText(multiline=True)],
                           filters=[_strip])


class ReactivateForm(PortalForm):
    idempotency_key = HiddenField(_l("Confirmation"), [Required(), IdempotencyKey()])


class ChangeForm(PortalForm):
    plan_code = StringField(_l("Plan"), [Required(), Shape(_CODE)], filters=[_strip])
    seats = StringField(_l("Seats"), [Required(), WholeNumber(1, MAX_SEATS_TYPED)], filters=[_strip])
    interval = StringField(_l("Billing frequency"), [Required(), OneOf(tuple(INTERVALS))], filters=[_strip])

    @property
    def interval_value(self) -> int:
        return INTERVALS[self.interval.data]


class ConfirmChangeForm(ChangeForm):
    idempotency_key = HiddenField(_l("Confirmation"), [Required(), IdempotencyKey()])


class RequestChangeForm(ChangeForm):
    """A member's request: what they would like, and why (S14: applied only by a contact)."""

    note_limit = MAX_NOTE
    note = TextAreaField(_l("Note for your billing contact (optional)"),
                         [Optional(), Length(MAX_NOTE), CleanText(multiline=True)], filters=[_strip])

    def __init__(self, *args: object, **kwargs: object) -> None:
        # Prefixed: it shares the member's landing page with the note to the billing administrator.
        kwargs.setdefault("prefix", "request")
        super().__init__(*args, **kwargs)


class ApproveRequestForm(PortalForm):
    idempotency_key = HiddenField(_l("Confirmation"), [Required(), IdempotencyKey()])


class DeclineRequestForm(PortalForm):
    note_limit = MAX_NOTE
    reason = TextAreaField(_l("Reason"), text(MAX_NOTE, multiline=True), filters=[_strip])


# online_billing's ids are UUIDs (uuid4 text): anything else is refused here, before any call,
# so text typed into a hidden field (a card number, say) never travels to online_billing (S18).
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class PaymentMethodForm(PortalForm):
    payment_method_id = HiddenField(_l("Card"), [*text(64), Shape(UUID_TEXT)])


class CardForm(cards.CardForm):
    """The shared card form (web.common.cards) with the Billing Center's default-card choice."""

    make_default = BooleanField(_l("Make this my default card"))


class InvoiceEmails:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        addresses = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
        if len(addresses) > MAX_INVOICE_EMAILS:
            raise ValidationError(_("Enter at most %(max)d addresses.", max=MAX_INVOICE_EMAILS))
        for address in addresses:
            if len(address) > MAX_EMAIL or not is_valid_email(address):
                raise ValidationError(_("%(address)s is not a valid email address.", address=address[:80]))


class ProfileForm(PortalForm):
    company_name = StringField(_l("Company name"), text(MAX_COMPANY_NAME), filters=[_strip])
    address_line1 = StringField(_l("Address"), text(MAX_ADDRESS_LINE), filters=[_strip])
    address_line2 = StringField(_l("Address (line 2)"), [Optional(), Length(MAX_ADDRESS_LINE), CleanText()],
                                filters=[_strip])
    city = StringField(_l("City"), text(MAX_CITY), filters=[_strip])
    region = StringField(_l("State or region"), [Optional(), Length(MAX_REGION), CleanText()], filters=[_strip])
    postal_code = StringField(_l("Postal code"), [Optional(), Length(MAX_POSTAL_CODE), CleanText()], filters=[_strip])
    country = StringField(_l("Country (two-letter code)"), [*text(2), Shape(re.compile(r"[A-Za-z]{2}"))],
                          filters=[_strip])
    tax_id = StringField(_l("Tax ID"), [Optional(), Length(MAX_TAX_ID), CleanText()], filters=[_strip])
    invoice_emails = TextAreaField(_l("Also send invoices to (one address a line, at most 5)"),
                                   [Optional(), Length(5 * (MAX_EMAIL + 2)), CleanText(multiline=True),
                                    InvoiceEmails()])

    def emails(self) -> tuple[str, ...]:
        return tuple(line.strip() for line in (self.invoice_emails.data or "").splitlines() if line.strip())


# The card form's messages come from the payment package (extracted with N_); referenced here
# so a reader finds where they are shown.
CARD_MESSAGES = card_messages.MESSAGES
