"""The Enterprise portal's own forms (the shared ones are in web.common.forms).

Every field is text checked here with messages naming the field (a 400, never a 500); what only
identity knows (a user ID already taken, the last contact) comes back from it naming the field
and is shown there (errors.FormPage).
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, StringField
from wtforms.validators import ValidationError

from billing_common.limits import MAX_EMAIL, MAX_ID, MAX_NAME, MAX_USER_ID
from web.common.forms import CleanText, Email, Length, Optional, PortalForm, PossibleUserId, text

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
