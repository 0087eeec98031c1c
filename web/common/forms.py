"""The portals' forms: every field checked for presence, length and stray characters (S24).

Messages name the field by its (translated) label, so a 400 always says what to fix. Input
that is not valid UTF-8 reaches us as U+FFFD replacement characters and is refused the same
way as control characters.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import StopValidation, ValidationError

from billing_common.limits import (
    MAX_EMAIL,
    MAX_MESSAGE,
    MAX_NAME,
    MAX_NOTE,
    MAX_PASSWORD,
    MAX_SUBJECT,
    MAX_TOKEN,
    MAX_USER_ID,
    MIN_PASSWORD,
    has_disallowed_characters,
    is_possible_user_id,
    is_valid_email,
)


def _label(field: Field) -> str:
    return str(field.label.text)


def _text(field: Field) -> str:
    """The field's value as text; anything else (None, a file, a list) counts as empty."""
    return field.data if isinstance(field.data, str) else ""


def _not_text(field: Field) -> bool:
    # formdata refuses file parts before the form is built; this guards any other way in.
    return field.data is not None and not isinstance(field.data, str)


class Required:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        if _not_text(field):
            field.errors[:] = []
            raise StopValidation(_("%(field)s must be text.", field=_label(field)))
        if not _text(field).strip():
            field.errors[:] = []
            raise StopValidation(self.when_empty(field))

    def when_empty(self, field: Field) -> str:
        return _("%(field)s is required.", field=_label(field))


class Optional(Required):
    """Like Required, but an empty field simply ends validation without an error."""

    def when_empty(self, field: Field) -> str:
        return ""


class Length:
    def __init__(self, maximum: int) -> None:
        self.maximum = maximum

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if len(_text(field)) > self.maximum:
            raise StopValidation(_("%(field)s is too long (at most %(max)d characters).",
                                   field=_label(field), max=self.maximum))


class CleanText:
    def __init__(self, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if has_disallowed_characters(_text(field), multiline=self.multiline):
            raise StopValidation(_("%(field)s contains characters that are not allowed.",
                                   field=_label(field)))


class PossibleUserId:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not is_possible_user_id(_text(field).strip()):
            raise ValidationError(_("Invalid user ID"))


class Email:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not is_valid_email(_text(field).strip()):
            raise ValidationError(_("Enter a valid email address."))


class NewPassword:
    def __call__(self, form: FlaskForm, field: Field) -> None:
        if len(_text(field)) < MIN_PASSWORD:
            raise ValidationError(_("The new password must have at least %(min)d characters.",
                                    min=MIN_PASSWORD))


class SameAs:
    def __init__(self, other: str) -> None:
        self.other = other

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if _text(field) != _text(form[self.other]):
            raise ValidationError(_("The two passwords do not match."))


def text(maximum: int, *, multiline: bool = False) -> list[object]:
    return [Required(), Length(maximum), CleanText(multiline)]


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class PortalForm(FlaskForm):
    def form_error(self, message: str) -> None:
        """A message about the whole form (shown above it), e.g. a failed sign-in."""
        self.form_errors.append(message)


class SignInForm(PortalForm):
    login = StringField(_l("User ID"), [*text(MAX_USER_ID), PossibleUserId()], filters=[_strip])
    password = PasswordField(_l("Password"), text(MAX_PASSWORD))


class ResetRequestForm(PortalForm):
    login = StringField(_l("User ID"), [*text(MAX_USER_ID), PossibleUserId()], filters=[_strip])


class ResetForm(PortalForm):
    new_password = PasswordField(_l("New password"), [*text(MAX_PASSWORD), NewPassword()])
    confirm_password = PasswordField(_l("Confirm the new password"),
                                     [*text(MAX_PASSWORD), SameAs("new_password")])


class ChangePasswordForm(ResetForm):
    current_password = PasswordField(_l("Current password"), text(MAX_PASSWORD))


class ContactAdministratorForm(PortalForm):
    note_limit = MAX_NOTE
    note = TextAreaField(_l("Note (optional)"), [Optional(), Length(MAX_NOTE), CleanText(multiline=True)],
                         filters=[_strip])


class CustomerCareForm(PortalForm):
    name = StringField(_l("Your name"), text(MAX_NAME), filters=[_strip])
    email = StringField(_l("Your email address"), [*text(MAX_EMAIL), Email()], filters=[_strip])
    subject = StringField(_l("Subject"), text(MAX_SUBJECT), filters=[_strip])
    message = TextAreaField(_l("Message"), text(MAX_MESSAGE, multiline=True), filters=[_strip])


class HandoffForm(PortalForm):
    # The single-use ticket is the secret: this one form carries no CSRF token.
    class Meta:
        csrf = False

    ticket = HiddenField(_l("Hand-off ticket"), text(MAX_TOKEN))


class LanguageForm(PortalForm):
    lang = HiddenField(_l("Language"), text(16))
    next = HiddenField(_l("Return address"), [Optional(), Length(2048), CleanText()])


class ReauthForm(PortalForm):
    """Confirm your password (S17): both doors' reauth pages (web.common.reauth)."""

    password = PasswordField(_l("Password"), text(MAX_PASSWORD))
    next = HiddenField(_l("Return address"), [Optional(), Length(2048), CleanText()])
