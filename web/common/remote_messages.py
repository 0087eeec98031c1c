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
    # Billing contacts and handovers (identity's billing_contacts.py and domain/contacts.py).
    _l("A user ID is a user name (3-64 letters, digits, '.', '_' or '-') or an email address."),
    _l("Enter a valid email address."),
    _l("This user ID is already in use."),
    _l("This email address is already in use."),
    _l("An account keeps at least one billing contact."),
    _l("Make another billing contact primary before removing this one."),
    _l("This person is not a billing contact of the account."),
    _l("No such billing contact on this account."),
    _l("A handover of this contact is already waiting for approval."),
    _l("The person to replace is no longer a billing contact of the account."),
    _l("This handover is no longer pending."),
    _l("Confirm your password: this change needs a sign-in within the last 15 minutes."),
)
