"""Messages identity puts in its errors, listed here so the portals' catalogue translates them.

The web tier shows identity's INVALID_ARGUMENT / FAILED_PRECONDITION message next to the field
it names (errors.py); `extract` reads this file, so each message gets a pt-BR msgstr. A message
missing here is shown in English (or as the field's generic pt-BR fallback).
"""
from flask_babel import lazy_gettext as _l

IDENTITY_MESSAGES = (
    _l("Enter your user ID."),
    _l("Enter your password."),
    _l("Enter a user ID."),
    _l("Enter an email address."),
    _l("A password needs at least 8 characters."),
    _l("A password can have at most 1024 characters."),
    _l("This password is one of the most common ones, so it is easy to guess. Choose another."),
    _l("Your session has ended. Please sign in again."),
    _l("This sign-in hand-off is no longer valid. Please sign in again."),
    _l("This Reset/Create your password link has expired or was already used. Ask for a new one."),
    _l("Only members who are not billing contacts send this message."),
)
