"""Who may use the Enterprise portal's account pages.

A billing contact of an enterprise account acts on their own account only: the account id of
every call is the signed-in principal's, never one from the request (S13). A rep acts on an
account only when identity lists it among the accounts they serve (ListRepAccounts); any
other account id answers 404, like an object of another account (S13, S14). Members and
everyone else get the 403 page, never a change (S14).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g

from billing.identity.v1 import identity_pb2
from web.common.clients import AccountView
from web.common.errors import forbidden, not_found
from web.common.runtime import identity
from web.common.security import signed_in
from web.enterprise_portal.backend import Recipient

F = TypeVar("F", bound=Callable[..., Any])


def is_enterprise_contact(principal: Any) -> bool:
    return bool(principal is not None and principal.role == identity_pb2.ROLE_BILLING_CONTACT
                and principal.account.kind == identity_pb2.ACCOUNT_KIND_ENTERPRISE)


def is_rep(principal: Any) -> bool:
    return bool(principal is not None and principal.role == identity_pb2.ROLE_REP)


def enterprise_contact(view: F) -> F:
    """Signed in as a billing contact of an enterprise account, else the 403 page (S14)."""

    @signed_in
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not is_enterprise_contact(g.principal):
            return forbidden()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def rep_of_account(view: F) -> F:
    """Signed in as a rep who serves the route's `account_id` (g.rep_account), else 403 for
    a non-rep and 404 for an account they do not serve (S13, S14)."""

    @signed_in
    @functools.wraps(view)
    def wrapper(*args: Any, account_id: str, **kwargs: Any) -> Any:
        if not is_rep(g.principal):
            return forbidden()
        served = next((a for a in identity().list_rep_accounts(g.session_token) if a.account_id == account_id),
                      None)
        if served is None:
            return not_found()
        g.rep_account = served
        return view(*args, account_id=account_id, **kwargs)

    return wrapper  # type: ignore[return-value]


def account_id() -> str:
    return str(g.principal.account.account_id)


def contacts_of(account: str) -> list[Recipient]:
    """The account's billing contacts as mail recipients (identity's); the signed-in person's
    own language where it is theirs, English for the others (identity keeps no locale per
    contact for others to read)."""
    view: AccountView = identity().get_account(account)
    me = g.principal
    return [Recipient(c.email, me.locale if c.email == me.email and me.locale == "pt-BR" else "en")
            for c in view.billing_contacts]
