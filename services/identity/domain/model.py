"""Accounts, users, memberships, and the rule that sends each person to their portal."""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from billing_common import limits
from billing_common.errors import InvalidArgument


class AccountKind(enum.StrEnum):
    ONLINE = "online"
    ENTERPRISE = "enterprise"


class Role(enum.StrEnum):
    BILLING_CONTACT = "billing_contact"
    MEMBER = "member"
    # Vendor staff who serve enterprise accounts; they have no membership.
    REP = "rep"


class Portal(enum.StrEnum):
    BILLING_CENTER = "billing_center"
    ENTERPRISE = "enterprise"


LOCALES = ("en", "pt-BR")
ACTIVE = "active"
DISABLED = "disabled"


@dataclass
class Account:
    id: str
    name: str
    kind: AccountKind
    currency: str
    locale: str
    status: str = ACTIVE
    # When it was provisioned (aware, UTC); None only before it is stored.
    created_at: dt.datetime | None = None


@dataclass
class User:
    """A person who can sign in (or will, once they create a password).

    A user has at most one membership, i.e. belongs to one account: the portals show "the"
    account of the signed-in person, and the database enforces it (memberships' primary key
    is the user id). Reps (staff) have none; they serve accounts through rep assignments.
    `password_hash` is None until the user sets one with Reset/Create your password: until
    then they cannot sign in.
    """

    id: str
    login: str
    email: str
    name: str
    locale: str
    password_hash: str | None = None
    staff: bool = False
    status: str = ACTIVE
    # When it was provisioned (aware, UTC); None only before it is stored.
    created_at: dt.datetime | None = None
    # Every session and hand-off ticket carries the generation it was issued under; a change
    # that must end them (a new password, a changed or removed membership) moves it on in the
    # same transaction, so no session issued before it is accepted again (S5, S9, S14).
    session_generation: int = 0
    # The last successful sign-in at either portal (aware, UTC); None: not since migration 0007.
    last_sign_in_at: dt.datetime | None = None

    @property
    def login_normalized(self) -> str:
        return normalize_login(self.login)

    @property
    def email_normalized(self) -> str:
        return normalize_login(self.email)


@dataclass(frozen=True)
class Membership:
    user_id: str
    account_id: str
    role: Role


@dataclass(frozen=True)
class Principal:
    """Who is signed in: the user, their role, and their account (None for reps)."""

    user: User
    role: Role
    account: Account | None

    @property
    def home_portal(self) -> Portal:
        return home_portal(self.role, self.account.kind if self.account else None)


def home_portal(role: Role, account_kind: AccountKind | None) -> Portal:
    """The portal a person belongs in.

    Reps and billing contacts of enterprise accounts use the Enterprise Billing Portal; billing
    contacts of online accounts use the Billing Center. Members (not billing contacts) of any
    account land in the Billing Center, whose page tells them to contact their billing
    administrator (the seed's message) and lets them mail that person.
    """
    if role is Role.REP:
        return Portal.ENTERPRISE
    if role is Role.BILLING_CONTACT and account_kind is AccountKind.ENTERPRISE:
        return Portal.ENTERPRISE
    return Portal.BILLING_CENTER


def may_sign_in_at(portal: Portal, role: Role) -> bool:
    """Whether a correct password at `portal` signs the person in (here or by hand-off).

    The seed: at the Enterprise Billing Portal someone who is not a billing contact sees
    "Invalid user ID/password", the same answer as a wrong password (S3), so members are
    refused there. Everyone else is signed in, or handed over to their home portal.
    """
    return not (portal is Portal.ENTERPRISE and role is Role.MEMBER)


# --- user IDs ("login"): a user name or an email address --------------------------------

# The shapes and limits come from billing_common.limits, which the portals' forms share.


def normalize_login(login: str) -> str:
    """User IDs are looked up case-insensitively."""
    return login.strip().lower()


def is_valid_login(login: str) -> bool:
    return bool(limits.USER_NAME.fullmatch(login)) or is_valid_email(login)


def is_valid_email(email: str) -> bool:
    return limits.is_valid_email(email)


def validate_login(login: str, field: str = "login") -> str:
    login = login.strip()
    if not login:
        raise InvalidArgument("Enter a user ID.", field=field)
    if len(login) > limits.MAX_USER_ID or not is_valid_login(login):
        raise InvalidArgument(
            "A user ID is a user name (3-64 letters, digits, '.', '_' or '-') or an email address.",
            field=field,
        )
    return login


def validate_email(email: str, field: str = "email") -> str:
    email = email.strip()
    if not email:
        raise InvalidArgument("Enter an email address.", field=field)
    if not is_valid_email(email):
        raise InvalidArgument("Enter a valid email address.", field=field)
    return email


def validate_text(
    text: str, field: str, *, max_length: int, required: bool = True, multiline: bool = False
) -> str:
    """Free text from a person: trimmed, bounded, no control characters (tab/newlines only
    when multiline), so it is safe in a mail body and never in a header."""
    text = text.strip()
    if required and not text:
        raise InvalidArgument(f"The field {field} is required.", field=field)
    if len(text) > max_length:
        raise InvalidArgument(f"The field {field} takes at most {max_length} characters.", field=field)
    if limits.has_disallowed_characters(text, multiline=multiline):
        raise InvalidArgument(f"The field {field} contains characters that are not allowed.", field=field)
    return text


def validate_locale(locale: str, field: str = "locale") -> str:
    if locale not in LOCALES:
        raise InvalidArgument(f"The locale must be one of {', '.join(LOCALES)}.", field=field)
    return locale
