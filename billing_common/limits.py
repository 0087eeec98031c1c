"""What the people's input may be, defined once for the portals' forms and for identity (S1, S24).

The web forms check these before calling identity, and identity checks them again for every
other caller, so a form never accepts what identity then refuses, nor the reverse. Plain Python:
no Flask here, and identity's domain imports it.
"""
from __future__ import annotations

import re
import unicodedata

# A user ID is a user name or an email address.
USER_NAME = re.compile(r"[A-Za-z0-9._-]{3,64}")
# Deliberately simple: one @, no spaces, a dot in the domain. The mailbox is proved by the
# reset mail, not by a regular expression.
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")

# The longest path an SMTP server must accept (RFC 5321), so the longest address we take.
MAX_EMAIL = 254
MAX_USER_ID = MAX_EMAIL

# S1: at least 8; accepted in full, never truncated (argon2 hashes any length): the upper bound
# only stops abuse.
MIN_PASSWORD = 8
MAX_PASSWORD = 1024

# Free text, in characters: a person's or an account's name, the Customer Care form's subject
# and message, the note to a billing administrator.
MAX_NAME = 100
MAX_SUBJECT = 150
MAX_MESSAGE = 5000
MAX_NOTE = 500

# A billing profile (billing_common.invoicing.profile): a company's legal name (Brazil's
# register allows 150), address lines, city, state or region, postal code, a tax ID in any
# country's notation, and the extra addresses every invoice mail also goes to.
MAX_COMPANY_NAME = 150
MAX_ADDRESS_LINE = 100
MAX_CITY = 100
MAX_REGION = 100
MAX_POSTAL_CODE = 16
MAX_TAX_ID = 40
MAX_INVOICE_EMAILS = 5

# Ids one service hands another (identity's account and user ids are UUIDs).
MAX_ID = 64

# Session tokens, hand-off tickets and reset tokens we issue are 43 characters; anything much
# longer is refused before it is hashed.
MAX_TOKEN = 512


def is_possible_user_id(value: str) -> bool:
    """Whether `value` has the shape of a user ID (a user name or an email address); nobody has
    any other, so the answer reveals nothing about who exists."""
    return bool(USER_NAME.fullmatch(value)) or (len(value) <= MAX_USER_ID and bool(EMAIL.fullmatch(value)))


# Bidirectional overrides and isolates make text read differently from what it is.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_disallowed_characters(text: str, *, multiline: bool = False) -> bool:
    """Whether free text holds what no person types: control characters (tab and line breaks
    only in multi-line text), surrogates, U+FFFD (bytes that were not UTF-8) or bidirectional
    overrides. Other format characters stay: a zero-width joiner builds emoji, a soft hyphen
    is part of some names."""
    allowed = "\t\r\n" if multiline else ""
    for ch in text:
        if ch in allowed:
            continue
        if ch == "\ufffd" or ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs"):
            return True
    return False


def is_valid_email(value: str) -> bool:
    """An email address we can store and write to: EMAIL's shape, at most MAX_EMAIL once
    lower-cased (what is stored), and no invisible character at all (Cc, Cf, Cs), since an
    address that looks like another one is how a mail is sent to the wrong person."""
    return (len(value.lower()) <= MAX_EMAIL and bool(EMAIL.fullmatch(value))
            and not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in value))
